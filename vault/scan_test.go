package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/kms"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

const (
	algDeterministic = "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"
	algRandom        = "AEAD_AES_256_CBC_HMAC_SHA_512-Random"
)

// scanFixture is a database holding documents encrypted, as an application
// would, with two data keys; the key vault lives in the same database.
type scanFixture struct {
	db     string
	v      *Vault
	a, b   model.KeyID // both used
	unused model.KeyID // a key no document uses
}

func newScanFixture(t *testing.T, uri string) *scanFixture {
	t.Helper()
	ctx := context.Background()
	masterKey := make([]byte, 96)
	if _, err := rand.Read(masterKey); err != nil {
		t.Fatal(err)
	}
	f := &scanFixture{db: fmt.Sprintf("scan_%d", time.Now().UnixNano())}
	ns := f.db + ".__keyVault"

	// The application: its own client and ClientEncryption, local master key.
	app, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	ce, err := mongo.NewClientEncryption(app, options.ClientEncryption().
		SetKeyVaultNamespace(ns).
		SetKmsProviders(map[string]map[string]any{"local": {"key": masterKey}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = app.Database(f.db).Drop(context.Background())
		_ = ce.Close(context.Background()) // disconnects app
	})
	newKey := func(name string) model.KeyID {
		bin, err := ce.CreateDataKey(ctx, "local", options.DataKey().SetKeyAltNames([]string{name}))
		if err != nil {
			t.Fatal(err)
		}
		var id model.KeyID
		copy(id[:], bin.Data)
		return id
	}
	f.a, f.b, f.unused = newKey("a"), newKey("b"), newKey("unused")

	enc := func(id model.KeyID, alg string, val any) primitive.Binary {
		t.Helper()
		typ, data, err := bson.MarshalValue(val)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ce.Encrypt(ctx, bson.RawValue{Type: typ, Value: data}, options.Encrypt().SetAlgorithm(alg).SetKeyID(binID(id)))
		if err != nil {
			t.Fatal(err)
		}
		if out.Subtype != 6 || len(out.Data) < 17 || [16]byte(out.Data[1:17]) != id {
			t.Fatalf("ciphertext is not subtype 6 with the key id at bytes 1..16: subtype %d, % x", out.Subtype, out.Data[:min(17, len(out.Data))])
		}
		return out
	}
	aDet, aRand := func(v any) primitive.Binary { return enc(f.a, algDeterministic, v) }, func(v any) primitive.Binary { return enc(f.a, algRandom, v) }
	bDet, bRand := func(v any) primitive.Binary { return enc(f.b, algDeterministic, v) }, func(v any) primitive.Binary { return enc(f.b, algRandom, v) }

	insert := func(coll string, docs ...bson.D) {
		t.Helper()
		in := make([]any, len(docs))
		for i := range docs {
			in[i] = docs[i]
		}
		if _, err := app.Database(f.db).Collection(coll).InsertMany(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	d := func(e ...bson.E) bson.D { return bson.D(e) }
	e := func(k string, v any) bson.E { return bson.E{Key: k, Value: v} }
	insert("patients",
		// p1: a at the top level.
		d(e("_id", "p1"), e("name", "Ann"), e("ssn", aDet("111-11-1111"))),
		// p2: b at the top level, a nested at billing.card.number.
		d(e("_id", "p2"), e("ssn", bDet("222-22-2222")), e("billing", d(e("card", d(e("number", aRand("4111")), e("cvv", "123")))))),
		// p3: a twice (counts once), b inside an array, under an undeclared path.
		d(e("_id", "p3"), e("ssn", aDet("333-33-3333")), e("notes", bson.A{"plain", aRand("note"), d(e("inner", bRand(42)))})),
		// p4: no ciphertext at all.
		d(e("_id", "p4"), e("name", "Plain"), e("n", 3), e("billing", d(e("card", d(e("number", "plain")))))),
		// p5: b nested.
		d(e("_id", "p5"), e("billing", d(e("card", d(e("number", bRand(int64(5)))))))),
		// p6: a nested inside an array of documents.
		d(e("_id", "p6"), e("billing", bson.A{d(e("card", d(e("number", aRand("5500"))))), d(e("card", d(e("number", "none"))))})),
	)
	insert("visits",
		d(e("_id", "v1"), e("diagnosis", bRand("flu"))),
		// v2: a outside the declared path.
		d(e("_id", "v2"), e("diagnosis", bDet("cold")), e("extra", aDet("x"))),
		d(e("_id", "v3"), e("diagnosis", "healthy")),
	)

	// csfle's own vault, opened on the same key vault and master key.
	providers, err := kms.Resolve(ctx, []kms.Config{{Name: "local", Kind: "local", LocalKey: secret.New(masterKey)}}, kms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.v, err = Open(ctx, secret.FromString(uri), ns, providers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.v.Close(context.Background()) })
	return f
}

func TestScanUsageAgainstFerretDB(t *testing.T) {
	env := startDev(t)
	ctx := context.Background()
	f := newScanFixture(t, env.MongoURI)
	ids := []model.KeyID{f.a, f.b, f.unused}
	patients, visits := f.db+".patients", f.db+".visits"

	tests := []struct {
		name    string
		targets []ScanTarget
		want    model.KeyUsage
	}{
		{
			name: "declared paths only",
			targets: []ScanTarget{
				{Database: f.db, Collection: "patients", Paths: []string{"ssn", "billing.card.number"}},
				{Database: f.db, Collection: "visits", Paths: []string{"diagnosis"}},
			},
			want: model.KeyUsage{
				f.a: {patients: 4},            // p1, p2, p3, p6
				f.b: {patients: 2, visits: 2}, // p2, p5; v1, v2
			},
		},
		{
			name: "nil paths: every field",
			targets: []ScanTarget{
				{Database: f.db, Collection: "patients"},
				{Database: f.db, Collection: "visits"},
			},
			want: model.KeyUsage{
				f.a: {patients: 4, visits: 1}, // p1, p2, p3, p6; v2 (extra)
				f.b: {patients: 3, visits: 2}, // p2, p3 (notes), p5; v1, v2
			},
		},
		{
			name: "paths that miss the nested ciphertext",
			targets: []ScanTarget{
				{Database: f.db, Collection: "patients", Paths: []string{"billing.card.cvv", "billing.number", "name"}},
			},
			want: model.KeyUsage{},
		},
		{
			name: "a parent path covers its subtree",
			targets: []ScanTarget{
				{Database: f.db, Collection: "patients", Paths: []string{"billing", "billing.card.number"}},
			},
			want: model.KeyUsage{
				f.a: {patients: 2}, // p2, p6
				f.b: {patients: 1}, // p5
			},
		},
		{
			name: "targets on the same collection are merged",
			targets: []ScanTarget{
				{Database: f.db, Collection: "patients", Paths: []string{"ssn"}},
				{Database: f.db, Collection: "patients", Paths: []string{"notes"}},
			},
			want: model.KeyUsage{
				f.a: {patients: 2}, // p1, p3
				f.b: {patients: 2}, // p2, p3
			},
		},
		{
			name: "collections and databases that do not exist",
			targets: []ScanTarget{
				{Database: f.db, Collection: "nope", Paths: []string{"ssn"}},
				{Database: f.db + "_nope", Collection: "patients"},
			},
			want: model.KeyUsage{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var reports []int64
			got, err := f.v.ScanUsage(ctx, tc.targets, ids, func(n int64) { reports = append(reports, n) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if got.Total(f.unused) != 0 {
				t.Errorf("a key no document uses counts %d", got.Total(f.unused))
			}
			if len(reports) == 0 || !slices.IsSorted(reports) {
				t.Errorf("progress reports = %v, want at least the final count, never decreasing", reports)
			}
		})
	}

	t.Run("only the ids asked about are counted", func(t *testing.T) {
		got, err := f.v.ScanUsage(ctx, []ScanTarget{{Database: f.db, Collection: "patients"}}, []model.KeyID{f.b}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(model.KeyUsage{f.b: {patients: 3}}, got); diff != "" {
			t.Errorf("usage (-want +got):\n%s", diff)
		}
	})

	t.Run("a canceled scan fails instead of undercounting", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := f.v.ScanUsage(cctx, []ScanTarget{{Database: f.db, Collection: "patients"}}, ids, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("AllCollections", func(t *testing.T) {
		all, err := f.v.AllCollections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range all {
			ns := c.Namespace()
			names = append(names, ns)
			if c.Paths != nil {
				t.Errorf("%s: Paths = %v, want nil (every field)", ns, c.Paths)
			}
			if ns == f.v.Namespace() || strings.HasPrefix(c.Collection, "system.") {
				t.Errorf("AllCollections lists %s", ns)
			}
			switch c.Database {
			case "admin", "local", "config":
				t.Errorf("AllCollections lists %s", ns)
			}
		}
		for _, want := range []string{patients, visits} {
			if !slices.Contains(names, want) {
				t.Errorf("AllCollections = %v, want it to hold %s", names, want)
			}
		}

		usage, err := f.v.ScanUsage(ctx, all, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := model.KeyUsage{f.a: {patients: 4, visits: 1}, f.b: {patients: 3, visits: 2}}
		if diff := cmp.Diff(want, usage); diff != "" {
			t.Errorf("full scan usage (-want +got):\n%s", diff)
		}
	})
}

// blob builds a BSON binary of the given subtype whose payload is the blob
// subtype followed by the key id and some ciphertext-like bytes.
func blob(binSubtype, blobSubtype byte, id model.KeyID, tail int) primitive.Binary {
	data := append([]byte{blobSubtype}, id[:]...)
	for i := 0; i < tail; i++ {
		data = append(data, byte(i*7))
	}
	return primitive.Binary{Subtype: binSubtype, Data: data}
}

func TestWalkFindsStoredCiphertext(t *testing.T) {
	a := model.KeyID{0xa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	b := model.KeyID{0xb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	other := model.KeyID{0xc}
	// Every BSON type the walker must step over before a value it wants.
	allTypes := bson.D{
		{Key: "double", Value: 1.5},
		{Key: "string", Value: "s"},
		{Key: "doc", Value: bson.D{{Key: "x", Value: int32(1)}}},
		{Key: "array", Value: bson.A{int64(1), "two"}},
		{Key: "bin", Value: primitive.Binary{Subtype: 0, Data: []byte{1, 2}}},
		{Key: "undefined", Value: primitive.Undefined{}},
		{Key: "oid", Value: primitive.NewObjectID()},
		{Key: "bool", Value: true},
		{Key: "date", Value: primitive.DateTime(1700000000000)},
		{Key: "null", Value: nil},
		{Key: "regex", Value: primitive.Regex{Pattern: "a.*b", Options: "i"}},
		{Key: "dbpointer", Value: primitive.DBPointer{DB: "db.coll", Pointer: primitive.NewObjectID()}},
		{Key: "js", Value: primitive.JavaScript("function(){}")},
		{Key: "symbol", Value: primitive.Symbol("sym")},
		{Key: "codews", Value: primitive.CodeWithScope{Code: "x", Scope: bson.D{{Key: "y", Value: int32(2)}}}},
		{Key: "int32", Value: int32(7)},
		{Key: "ts", Value: primitive.Timestamp{T: 1, I: 2}},
		{Key: "int64", Value: int64(8)},
		{Key: "dec", Value: primitive.NewDecimal128(1, 2)},
		{Key: "min", Value: primitive.MinKey{}},
		{Key: "max", Value: primitive.MaxKey{}},
	}
	tests := []struct {
		name string
		doc  any
		want []model.KeyID
	}{
		{"deterministic", bson.D{{Key: "f", Value: blob(6, 1, a, 50)}}, []model.KeyID{a}},
		{"random", bson.D{{Key: "f", Value: blob(6, 2, b, 50)}}, []model.KeyID{b}},
		{"QE v2 indexed equality", bson.D{{Key: "f", Value: blob(6, 14, a, 120)}}, []model.KeyID{a}},
		{"QE v2 indexed range", bson.D{{Key: "f", Value: blob(6, 15, b, 300)}}, []model.KeyID{b}},
		{"QE v2 unindexed", bson.D{{Key: "f", Value: blob(6, 16, a, 40)}}, []model.KeyID{a}},
		{"QE v1 stored values", bson.D{{Key: "u", Value: blob(6, 6, a, 40)}, {Key: "e", Value: blob(6, 7, b, 40)}}, []model.KeyID{a, b}},
		{"QE v1 indexed range", bson.D{{Key: "r", Value: blob(6, 9, b, 40)}}, []model.KeyID{b}},
		{"exactly the 17-byte prefix", bson.D{{Key: "f", Value: blob(6, 1, a, 0)}}, []model.KeyID{a}},
		{"nested and in arrays", bson.D{
			{Key: "a", Value: bson.D{{Key: "b", Value: bson.D{{Key: "c", Value: blob(6, 2, a, 30)}}}}},
			{Key: "list", Value: bson.A{"x", bson.A{bson.D{{Key: "deep", Value: blob(6, 1, b, 30)}}}}},
		}, []model.KeyID{a, b}},
		{"other blob subtypes are ignored", bson.D{
			{Key: "placeholder", Value: blob(6, 0, a, 30)},
			{Key: "fle2placeholder", Value: blob(6, 3, a, 30)},
			{Key: "insertv1", Value: blob(6, 4, a, 30)},
			{Key: "findv1", Value: blob(6, 5, a, 30)},
			{Key: "insertv2", Value: blob(6, 11, a, 30)},
			{Key: "findv2", Value: blob(6, 12, a, 30)},
			{Key: "rangefindv2", Value: blob(6, 13, a, 30)},
			{Key: "future", Value: blob(6, 17, a, 30)},
		}, nil},
		{"other binary subtypes are ignored", bson.D{
			{Key: "generic", Value: blob(0, 1, a, 30)},
			{Key: "uuid", Value: primitive.Binary{Subtype: 4, Data: a[:]}},
			{Key: "user", Value: blob(0x80, 2, a, 30)},
			{Key: "sensitive", Value: blob(8, 1, a, 30)},
		}, nil},
		{"a truncated blob is ignored", bson.D{
			{Key: "short", Value: primitive.Binary{Subtype: 6, Data: append([]byte{1}, a[:15]...)}},
			{Key: "empty", Value: primitive.Binary{Subtype: 6}},
		}, nil},
		{"keys not asked about are ignored", bson.D{{Key: "f", Value: blob(6, 1, other, 30)}}, nil},
		{"every BSON type is stepped over", append(append(bson.D{}, allTypes...), bson.E{Key: "last", Value: blob(6, 2, b, 10)}), []model.KeyID{b}},
		{"no ciphertext", allTypes, nil},
		{"two values with one key count once", bson.D{
			{Key: "x", Value: blob(6, 1, a, 10)}, {Key: "y", Value: bson.A{blob(6, 2, a, 10), blob(6, 16, a, 10)}},
		}, []model.KeyID{a}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := bson.Marshal(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, ids := range [][]model.KeyID{{a, b}, manyIDs(a, b)} {
				m := newKeyMatcher(ids)
				c := newUsageCounter(m)
				// Twice: the second document must count again.
				for i := 0; i < 2; i++ {
					if !c.add(bson.Raw(raw)) {
						t.Fatalf("walk refused a valid document")
					}
				}
				var got []model.KeyID
				for i, n := range c.counts {
					switch n {
					case 0:
					case 2:
						got = append(got, m.ids[i])
					default:
						t.Errorf("key %s counted %d times in 2 documents", m.ids[i], n)
					}
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("with %d ids: keys found (-want +got):\n%s", len(ids), diff)
				}
			}
		})
	}

	t.Run("malformed documents are refused", func(t *testing.T) {
		raw, err := bson.Marshal(bson.D{{Key: "a", Value: bson.D{{Key: "f", Value: blob(6, 1, a, 30)}}}, {Key: "s", Value: "str"}})
		if err != nil {
			t.Fatal(err)
		}
		c := newUsageCounter(newKeyMatcher([]model.KeyID{a}))
		for n := 0; n < len(raw); n++ {
			cut := append([]byte(nil), raw[:n]...)
			if len(cut) >= 4 {
				cut[0] = byte(n) // claim the length it has
			}
			if c.add(cut) {
				t.Errorf("a document cut to %d of %d bytes was accepted", n, len(raw))
			}
		}
		bad := append([]byte(nil), raw...)
		bad[4] = 0x42 // unknown element type
		if c.add(bad) {
			t.Error("a document with an unknown element type was accepted")
		}
	})
}

// manyIDs is a, b and enough others for the matcher to use its map.
func manyIDs(a, b model.KeyID) []model.KeyID {
	ids := []model.KeyID{a, b}
	for i := 0; len(ids) <= keyMatcherLinearMax; i++ {
		ids = append(ids, model.KeyID{0xee, byte(i)})
	}
	return ids
}

func TestScanProjection(t *testing.T) {
	tests := []struct {
		paths []string
		want  bson.D
	}{
		{nil, nil},
		{[]string{}, nil},
		{[]string{"b", "a"}, bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}, {Key: "_id", Value: 0}}},
		{[]string{"a.b", "a", "a-b", "a.c", "a"}, bson.D{{Key: "a", Value: 1}, {Key: "a-b", Value: 1}, {Key: "_id", Value: 0}}},
		{[]string{"x.y.z", "x.y"}, bson.D{{Key: "x.y", Value: 1}, {Key: "_id", Value: 0}}},
		{[]string{"_id.k", "s"}, bson.D{{Key: "_id.k", Value: 1}, {Key: "s", Value: 1}}},
		{[]string{"s", ""}, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, scanProjection(tc.paths)); diff != "" {
			t.Errorf("scanProjection(%q) (-want +got):\n%s", tc.paths, diff)
		}
	}
}

func TestMergeScanTargets(t *testing.T) {
	got := mergeScanTargets([]ScanTarget{
		{Database: "d", Collection: "a", Paths: []string{"x"}},
		{Database: "d", Collection: "b", Paths: []string{"y"}},
		{Database: "d", Collection: "a", Paths: []string{"z"}},
		{Database: "d", Collection: "b"},
		{Database: "d", Collection: "b", Paths: []string{"w"}},
		{Database: "e", Collection: "c", Paths: []string{}},
	})
	want := []ScanTarget{
		{Database: "d", Collection: "a", Paths: []string{"x", "z"}},
		{Database: "d", Collection: "b"},
		{Database: "e", Collection: "c"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeScanTargets (-want +got):\n%s", diff)
	}
}
