package engine

import (
	"testing"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

func TestSameChangesComparesWhatIsApplied(t *testing.T) {
	id := model.KeyID{1}
	a := []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Rewrap, Reason: "one",
		Before: &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "local", Fields: map[string]string{}}},
		After:  &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn"}}}}}
	b := []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Rewrap, Reason: "two",
		Before: &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "local"}},
		After:  &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn"}}}}}
	if !sameChanges(a, b) {
		t.Error("changes that differ only in reason and in nil versus empty fields differ")
	}
	b[0].After.MasterKey.Fields["key"] = "other"
	if sameChanges(a, b) {
		t.Error("changes to different master keys compare equal")
	}
	if sameChanges(a, nil) {
		t.Error("a plan compares equal to no plan")
	}
}
