package vault

import (
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/planner"
)

// BenchmarkPlanVsRead holds the brief's target that a plan costs little
// more than reading the key vault once. It measures, in the same run, the
// baseline of decoding N key documents as Read does, and the planner on
// the result with every key in state and config (the steady state), and
// reports plan time as a ratio of the decode time ("plan/read").
func BenchmarkPlanVsRead(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			docs := make([][]byte, n)
			desired := model.Desired{KeyVaultNamespace: "encryption.__keyVault", Providers: []string{"aws"}}
			prior := model.Prior{Lineage: "l", Serial: 1}
			mk := model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn:aws:kms:us-east-1:111122223333:key/k", "region": "us-east-1"}}
			for i := range docs {
				var id model.KeyID
				id[0], id[1], id[2] = byte(i>>16), byte(i>>8), byte(i)
				name := fmt.Sprintf("user_%07d", i)
				raw, err := bson.Marshal(bson.D{
					{Key: "_id", Value: primitive.Binary{Subtype: 4, Data: id[:]}},
					{Key: "keyAltNames", Value: []string{name}},
					{Key: "masterKey", Value: bson.D{{Key: "provider", Value: "aws"}, {Key: "key", Value: mk.Fields["key"]}, {Key: "region", Value: "us-east-1"}}},
					{Key: "creationDate", Value: time.Unix(1700000000, 0)},
					{Key: "updateDate", Value: time.Unix(1700000000, 0)},
					{Key: "status", Value: 0},
				})
				if err != nil {
					b.Fatal(err)
				}
				docs[i] = raw
				addr := model.DataKeyAddr(name)
				desired.Keys = append(desired.Keys, model.DesiredKey{Addr: addr, MasterKey: mk, AltNames: []string{name}})
				prior.Keys = append(prior.Keys, model.PriorKey{Addr: addr, ID: id, MasterKey: mk, AltNames: []string{name}})
			}
			read := func() model.Live {
				live := model.Live{Namespace: "encryption.__keyVault", AltNamesIndex: model.IndexPresent}
				for _, raw := range docs {
					var d keyDoc
					if err := bson.Unmarshal(raw, &d); err != nil {
						b.Fatal(err)
					}
					k, err := d.live()
					if err != nil {
						b.Fatal(err)
					}
					live.Keys = append(live.Keys, k)
				}
				model.SortKeys(live.Keys)
				return live
			}
			var readTime, planTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				live := read()
				t1 := time.Now()
				p, refusals := planner.Plan(desired, live, prior, planner.Options{})
				t2 := time.Now()
				if len(refusals) > 0 || len(p.Changes) != 0 {
					b.Fatalf("steady state planned %d changes, %d refusals", len(p.Changes), len(refusals))
				}
				readTime += t1.Sub(t0)
				planTime += t2.Sub(t1)
			}
			b.ReportMetric(float64(planTime)/float64(readTime), "plan/read")
			b.ReportMetric(float64(readTime.Nanoseconds())/float64(b.N*n), "read-ns/key")
			b.ReportMetric(float64(planTime.Nanoseconds())/float64(b.N*n), "plan-ns/key")
		})
	}
}
