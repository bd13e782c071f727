package devenv

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// lastRunFile records, in Dir, what the previous Start settled on, so the
// next one can offer the same ports and CMK. It is a hint: a missing or
// unreadable file means a fresh start.
const lastRunFile = "devenv.json"

type lastRun struct {
	MongoPort int    `json:"mongo_port"`
	KMSPort   int    `json:"kms_port"`
	CMKARN    string `json:"cmk_arn"`
}

func readLastRun(dir string) lastRun {
	var r lastRun
	b, err := os.ReadFile(filepath.Join(dir, lastRunFile))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return lastRun{}
	}
	return r
}

func writeLastRun(dir string, r lastRun) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, lastRunFile), append(b, '\n'), 0o600)
}
