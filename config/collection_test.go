package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
)

func TestCollectionLookups(t *testing.T) {
	cfg, diags := Load("testdata/valid/collections", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := cfg.Collection("medical", "patients")
	if c == nil || c.Mode != model.ModeValidator || c.Addr != model.CollectionAddr("medical", "patients") {
		t.Fatalf("Collection(medical, patients) = %+v", c)
	}
	for _, miss := range [][2]string{{"medical", "nope"}, {"medica", "patients"}, {"", ""}, {"zz", "zz"}} {
		if got := cfg.Collection(miss[0], miss[1]); got != nil {
			t.Errorf("Collection(%q, %q) = %v, want nil", miss[0], miss[1], got)
		}
	}
	wantFile := filepath.Join("testdata/valid/collections", "collections.csfle.hcl")
	if c.DeclRange.Filename != wantFile || c.DeclRange.Start.Line != 2 {
		t.Errorf("collection DeclRange = %v", c.DeclRange)
	}
	f := c.Field("billing.card.number")
	if f == nil || f.DeclRange.Filename != wantFile || f.DeclRange.Start.Line != 8 || f.DataKey != "billing" {
		t.Fatalf("Field(billing.card.number) = %+v", f)
	}
	if got := c.Field("billing"); got != nil {
		t.Errorf("Field(billing) = %v, want nil", got)
	}
	if cfg.Files[f.DeclRange.Filename] == nil {
		t.Errorf("Files lacks %s", f.DeclRange.Filename)
	}

	// Desired is a copy: changing it leaves the config alone.
	d := cfg.Desired()
	q := d.Collections[0].Fields[len(d.Collections[0].Fields)-1].Queries[0]
	if q.Type != model.QueryRange || q.Sparsity == nil {
		t.Fatalf("last field of %s: query %+v", d.Collections[0].Addr, q)
	}
	*q.Sparsity = 99
	d.Collections[0].Fields[0].Path = "changed"
	again := cfg.Desired()
	if *again.Collections[0].Fields[len(again.Collections[0].Fields)-1].Queries[0].Sparsity == 99 ||
		again.Collections[0].Fields[0].Path == "changed" {
		t.Error("Desired shares collections with the Config")
	}
}

// TestCollectionsNeedNoOrder: collections, and fields, come out sorted
// whatever order the files declare them in.
func TestCollectionsSorted(t *testing.T) {
	src := withKey(`data_key "k" {
  kms = kms.local
}
collection "b" "x" {
  field "z" {
    data_key  = data_key.k
    algorithm = "random"
  }
  field "a.b" {
    data_key  = data_key.k
    algorithm = "random"
  }
  field "a" {
    data_key  = data_key.k
    algorithm = "random"
    bson_type = "string"
  }
}
collection "a-b" "x" {}
collection "a" "y" {}
collection "a" "x" {}
`)
	_, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Overlapping field paths" {
		t.Fatalf("diagnostics = %v", diags)
	}
	src = strings.Replace(src, `field "a.b"`, `field "ab"`, 1)
	cfg, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	var got []string
	for _, c := range cfg.Desired().Collections {
		got = append(got, c.Addr.String())
	}
	want := []string{"collection.a-b.x", "collection.a.x", "collection.a.y", "collection.b.x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("collection order (-want +got):\n%s", diff)
	}
	for i, c := range cfg.Collections {
		if c.Addr.String() != want[i] {
			t.Errorf("Config.Collections[%d] = %s, want %s", i, c.Addr, want[i])
		}
		if cfg.Collection(c.Database, c.Name) != c {
			t.Errorf("Collection(%q, %q) does not find it", c.Database, c.Name)
		}
	}
	var paths []string
	for _, f := range cfg.Collection("b", "x").Fields {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"a", "ab", "z"}, paths); diff != "" {
		t.Errorf("field order (-want +got):\n%s", diff)
	}
}

// TestRangeBounds: numbers are kept as their decimal text, strings as
// written, and each is checked against the field's type.
func TestRangeBounds(t *testing.T) {
	tests := []struct {
		bsonType, min, max, extra string
		wantMin, wantMax          string
		wantErr                   string
	}{
		{bsonType: "int", min: "0", max: "1e3", wantMin: "0", wantMax: "1000"},
		{bsonType: "int", min: `"-5"`, max: "2147483647", wantMin: "-5", wantMax: "2147483647"},
		{bsonType: "int", min: "-2147483649", max: "0", wantErr: "Invalid range bound"},
		{bsonType: "long", min: "-9223372036854775808", max: "9223372036854775807", wantMin: "-9223372036854775808", wantMax: "9223372036854775807"},
		{bsonType: "long", min: "0", max: "9223372036854775808", wantErr: "Invalid range bound"},
		{bsonType: "double", min: "0.1", max: "99.9", extra: "precision = 1", wantMin: "0.1", wantMax: "99.9"},
		{bsonType: "double", min: "-1.5", max: `"2500e-3"`, extra: "precision = 1", wantMin: "-1.5", wantMax: "2500e-3"},
		{bsonType: "double", min: "0", max: `"1e400"`, extra: "precision = 0", wantErr: "Invalid range bound"},
		{bsonType: "double", min: "0", max: "1", extra: "precision = -1", wantErr: "Invalid query option"},
		{bsonType: "decimal", min: `"-1e3"`, max: `"0x10"`, extra: "precision = 2", wantErr: "Invalid range bound"},
		{bsonType: "decimal", min: `"1/3"`, max: "1", extra: "precision = 2", wantErr: "Invalid range bound"},
		{bsonType: "decimal", min: `"-0.01"`, max: `"1e6"`, extra: "precision = 2", wantMin: "-0.01", wantMax: "1e6"},
		{bsonType: "date", min: `"2024-01-01T00:00:00Z"`, max: `"2024-01-01T00:00:00.001+00:00"`, wantMin: "2024-01-01T00:00:00Z", wantMax: "2024-01-01T00:00:00.001+00:00"},
		{bsonType: "date", min: `"2024-01-01"`, max: `"2025-01-01T00:00:00Z"`, wantErr: "Invalid range bound"},
		{bsonType: "date", min: "0", max: `"2025-01-01T00:00:00Z"`, wantMin: "0", wantMax: "2025-01-01T00:00:00Z"},
		{bsonType: "date", min: `"-86400000"`, max: "1.5", wantErr: "Invalid range bound"},
		{bsonType: "int", min: `"1e3"`, max: `" 2000 "`, wantMin: "1000", wantMax: "2000"},
		{bsonType: "decimal", min: "0", max: "1e40", extra: "precision = 0", wantMin: "0", wantMax: "1e+40"},
		{bsonType: "decimal", min: "0", max: `"1` + strings.Repeat("0", 34) + `"`, extra: "precision = 0", wantErr: "Invalid range bound"},
		{bsonType: "decimal", min: `"0.00"`, max: `"1` + strings.Repeat("0", 33) + `"`, extra: "precision = 2", wantMin: "0.00", wantMax: "1" + strings.Repeat("0", 33)},
		{bsonType: "date", min: `"2025-01-01T00:00:00Z"`, max: `"2024-01-01T00:00:00Z"`, wantErr: "Invalid range bounds"},
		{bsonType: "long", min: "0", max: "1e100000", wantErr: "Invalid range bound"},
		{bsonType: "int", min: "0", max: "255", extra: "trim_factor = 7", wantMin: "0", wantMax: "255"},
		{bsonType: "int", min: "0", max: "255", extra: "trim_factor = 8", wantErr: "Invalid query option"},
		{bsonType: "int", min: "0", max: "1", extra: "trim_factor = 0", wantMin: "0", wantMax: "1"},
		{bsonType: "double", min: "0", max: "1", extra: "precision = 2\ntrim_factor = 64", wantErr: "Invalid query option"},
		{bsonType: "int", min: "null", max: "1", wantErr: "Missing range bounds"},
	}
	for _, tt := range tests {
		name := tt.bsonType + " " + tt.min + ".." + tt.max + " " + tt.extra
		t.Run(name, func(t *testing.T) {
			src := withKey(`data_key "k" {
  kms = kms.local
}
collection "hr" "employees" {
  mode = "queryable"
  field "f" {
    data_key  = data_key.k
    bson_type = "` + tt.bsonType + `"
    query {
      type = "range"
      min  = ` + tt.min + `
      max  = ` + tt.max + `
      ` + tt.extra + `
    }
  }
}
`)
			if tt.min == "null" {
				src = strings.Replace(src, "min  = null\n", "", 1)
			}
			cfg, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
			if tt.wantErr != "" {
				if len(diags) != 1 || diags[0].Summary != tt.wantErr {
					t.Fatalf("diagnostics = %v, want one %q", diags, tt.wantErr)
				}
				return
			}
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			q := cfg.Collection("hr", "employees").Field("f").Query
			if q.Min != tt.wantMin || q.Max != tt.wantMax {
				t.Errorf("bounds = %q, %q; want %q, %q", q.Min, q.Max, tt.wantMin, tt.wantMax)
			}
		})
	}
}

func TestFractionDigits(t *testing.T) {
	for s, want := range map[string]int64{
		"0": 0, "1.50": 1, "25e-3": 3, "2500e-3": 1, "1.5e3": 0, "0.125": 3, "-0.0": 0, ".5": 1, "100": 0, "1e-2": 2,
	} {
		m := decimalRE.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%q does not match", s)
		}
		if got := fractionDigits(m); got != want {
			t.Errorf("fractionDigits(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestCollectionDiagnosticsOnce: a mistake that makes a field unusable is
// reported once, not again by the checks that depend on it.
func TestCollectionDiagnosticsOnce(t *testing.T) {
	src := withKey(`collection "hr" "employees" {
  mode = "queryable"
  field "a" {
    data_key  = data_key.missing
    bson_type = "uuid"
    query {
      type = "range"
      min  = 0
      max  = 10
    }
  }
  field "b" {
    data_key  = data_key.missing
    bson_type = "int"
  }
}
`)
	_, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
	want := []string{"Reference to undeclared data key", "Unknown BSON type", "Reference to undeclared data key"}
	if diff := cmp.Diff(want, summaries(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
