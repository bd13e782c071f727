package vault

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/devenv"
	"github.com/csfle/csfle/kms"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

const scanBenchDocs = 20_000

// scanBenchKeys are the fabricated key ids of the benchmark's ciphertext.
var scanBenchKeys = []model.KeyID{{0xb0, 1}, {0xb1, 2}, {0xb2, 3}}

// fakeCiphertext is a valid-looking stored ciphertext: blob subtype, key
// id, original BSON type, then random bytes the size of a real value's.
func fakeCiphertext(blobSubtype byte, id model.KeyID, n int) primitive.Binary {
	data := make([]byte, 18+n)
	data[0] = blobSubtype
	copy(data[1:17], id[:])
	data[17] = byte(bson.TypeString)
	_, _ = rand.Read(data[18:])
	return primitive.Binary{Subtype: 6, Data: data}
}

// scanBenchDoc is a document of a few plain fields and two ciphertexts,
// one at the top level (ssn) and one nested (address.zip), made with two
// different keys.
func scanBenchDoc(i int) bson.D {
	k := len(scanBenchKeys)
	return bson.D{
		{Key: "_id", Value: i},
		{Key: "name", Value: fmt.Sprintf("user_%07d", i)},
		{Key: "email", Value: fmt.Sprintf("user%d@example.com", i)},
		{Key: "age", Value: int32(20 + i%60)},
		{Key: "created", Value: primitive.DateTime(1700000000000 + int64(i)*1000)},
		{Key: "ssn", Value: fakeCiphertext(1, scanBenchKeys[i%k], 64)},
		{Key: "address", Value: bson.D{
			{Key: "street", Value: fmt.Sprintf("%d Main Street", i)},
			{Key: "city", Value: "Springfield"},
			{Key: "zip", Value: fakeCiphertext(2, scanBenchKeys[(i+1)%k], 48)},
		}},
		{Key: "tags", Value: bson.A{"alpha", "beta", "gamma"}},
		{Key: "score", Value: float64(i) / 3},
	}
}

// scanBenchWant is the usage of scanBenchDocs documents of scanBenchDoc.
func scanBenchWant(ns string) model.KeyUsage {
	u := model.KeyUsage{}
	k := len(scanBenchKeys)
	for i := 0; i < scanBenchDocs; i++ {
		for _, id := range []model.KeyID{scanBenchKeys[i%k], scanBenchKeys[(i+1)%k]} {
			if u[id] == nil {
				u[id] = map[string]int64{}
			}
			u[id][ns]++
		}
	}
	return u
}

// BenchmarkScanUsage holds acceptance 5 of issue 3: in the same run, against
// the development environment's FerretDB, it drains a collection with a
// plain find cursor (each document taken as bson.Raw, nothing decoded) and
// runs ScanUsage over the same collection, and reports both rates and the
// ratio of their times ("scan/drain", 1.0 = the scan costs no more than
// reading the documents). paths=all walks every field; paths=declared
// projects the two encrypted paths.
func BenchmarkScanUsage(b *testing.B) {
	ctx := context.Background()
	env, err := devenv.Start(ctx, devenv.Options{Dir: filepath.Join(b.TempDir(), "env")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Close() })

	master := make([]byte, 96)
	_, _ = rand.Read(master)
	providers, err := kms.Resolve(ctx, []kms.Config{{Name: "local", Kind: "local", LocalKey: secret.New(master)}}, kms.Options{})
	if err != nil {
		b.Fatal(err)
	}
	v, err := Open(ctx, secret.FromString(env.MongoURI), "encryption.__keyVault", providers)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close(context.Background()) })

	coll := v.client.Database("scanbench").Collection("people")
	t0 := time.Now()
	const batch = 1000
	for i := 0; i < scanBenchDocs; i += batch {
		docs := make([]any, 0, batch)
		for j := i; j < i+batch && j < scanBenchDocs; j++ {
			docs = append(docs, scanBenchDoc(j))
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("inserted %d documents in %v", scanBenchDocs, time.Since(t0).Round(time.Millisecond))
	ns := "scanbench.people"
	want := scanBenchWant(ns)

	drain := func(b *testing.B) {
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(scanBatchSize))
		if err != nil {
			b.Fatal(err)
		}
		defer cur.Close(ctx)
		n, size := 0, 0
		for cur.Next(ctx) {
			var raw bson.Raw = cur.Current
			size += len(raw)
			n++
		}
		if err := cur.Err(); err != nil {
			b.Fatal(err)
		}
		if n != scanBenchDocs || size == 0 {
			b.Fatalf("drained %d documents, want %d", n, scanBenchDocs)
		}
	}

	for _, tc := range []struct {
		name  string
		paths []string
	}{
		{"paths=all", nil},
		{"paths=declared", []string{"ssn", "address.zip"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			targets := []ScanTarget{{Database: "scanbench", Collection: "people", Paths: tc.paths}}
			var drainTime, scanTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				drain(b)
				t1 := time.Now()
				got, err := v.ScanUsage(ctx, targets, scanBenchKeys, func(int64) {})
				t2 := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				for _, id := range scanBenchKeys {
					if got[id][ns] != want[id][ns] {
						b.Fatalf("key %s: %d documents, want %d", id, got[id][ns], want[id][ns])
					}
				}
				drainTime += t1.Sub(t0)
				scanTime += t2.Sub(t1)
			}
			docs := float64(b.N * scanBenchDocs)
			b.ReportMetric(docs/drainTime.Seconds(), "drain-docs/s")
			b.ReportMetric(docs/scanTime.Seconds(), "scan-docs/s")
			b.ReportMetric(float64(scanTime)/float64(drainTime), "scan/drain")
		})
	}
}

// BenchmarkScanWalk is the walk alone, in memory: what ScanUsage adds to
// reading each document.
func BenchmarkScanWalk(b *testing.B) {
	docs := make([]bson.Raw, 10_000)
	size := 0
	for i := range docs {
		raw, err := bson.Marshal(scanBenchDoc(i))
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = raw
		size += len(raw)
	}
	for _, nIDs := range []int{1, 3, 1000} {
		b.Run(fmt.Sprintf("ids=%d", nIDs), func(b *testing.B) {
			ids := append([]model.KeyID(nil), scanBenchKeys[:min(nIDs, len(scanBenchKeys))]...)
			for i := 0; len(ids) < nIDs; i++ {
				ids = append(ids, model.KeyID{0xee, byte(i >> 8), byte(i)})
			}
			m := newKeyMatcher(ids)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := newUsageCounter(m)
				for _, d := range docs {
					if !c.add(d) {
						b.Fatal("malformed")
					}
				}
				if c.counts[0] == 0 {
					b.Fatal("no hit")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/doc")
		})
	}
}
