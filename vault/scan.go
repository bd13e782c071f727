package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/csfle/csfle/model"
)

// ScanTarget is a collection to scan and the dotted paths in it that may
// hold ciphertext; nil Paths means every field, recursively. An empty,
// non-nil Paths also means every field: a scan never silently reads nothing.
type ScanTarget struct {
	Database, Collection string
	Paths                []string
	// AltNamePointers are fields whose values name a key by alt name (the
	// targets of keyId pointers in the collection's $jsonSchema); see
	// CountAltNameReferences.
	AltNamePointers []string
	// NamedKeyIDs are the keys the collection's validator or encryptedFields
	// name by id (filled by AllCollections).
	NamedKeyIDs []model.KeyID
}

// Namespace is "db.coll".
func (t ScanTarget) Namespace() string { return t.Database + "." + t.Collection }

// ScanProgress reports documents scanned so far (called at most a few times
// a second, never concurrently, and once more when the scan is done).
type ScanProgress func(scanned int64)

// BSON binary subtype 6 marks encrypted values; the first byte of the
// payload is the blob subtype. The blob subtypes below are those stored in
// documents whose bytes 1 to 16 are the id of the data key whose material
// an application needs to decrypt the value:
//
//	1, 2    CSFLE deterministic and random ciphertext (subtype6 spec)
//	6, 7, 9 Queryable Encryption v1 (MongoDB 6.x): unindexed, indexed
//	        equality and indexed range values (key_uuid / S_KeyId)
//	14, 15, 16 Queryable Encryption v2 (MongoDB 7.0+): indexed equality,
//	        indexed range and unindexed values (S_KeyId / key_uuid)
//
// Blob subtype 11 (FLE2InsertUpdatePayloadV2), like 4, is what a client
// sends; the server turns it into 14 or 15 before storing it, and its bytes
// after the first are a BSON document, not a key id. Placeholders (0, 3)
// and find payloads (5, 10, 12, 13) are never stored either.
//
// In 7, 9, 14 and 15 the clear id is S_KeyId, the field's index key; the
// user key (K_KeyId) is inside the server-encrypted part. Drivers use one
// key for both (the Go driver has no separate index key option), so the
// clear id is the key to protect. Sources: libmongocrypt's
// mc-fle-blob-subtype-private.h and mc-fle2-payload-*-private*.h.
const (
	binarySubtypeEncrypted = 0x06
	scanPrefixLen          = 17 // blob subtype + 16-byte key id
)

var storedBlobSubtype = func() (t [256]bool) {
	for _, s := range []byte{1, 2, 6, 7, 9, 14, 15, 16} {
		t[s] = true
	}
	return t
}()

// scanBatchSize asks for large batches; the server still caps each at 16 MiB.
const scanBatchSize = 10_000

// scanWorkers is how many collections are read at once.
const scanWorkers = 4

// scanProgressEvery is the least time between two progress reports.
const scanProgressEvery = 250 * time.Millisecond

// ScanUsage counts, for each key id in ids, the documents of the targets
// holding at least one ciphertext made with it (a document with two such
// values counts once per key). It reads each collection once with a find
// cursor, projecting only the given paths (and _id excluded), and walks
// nested documents and arrays. Collections that do not exist count zero.
//
// The result holds only non-zero counts: a key no document uses is absent.
// Targets naming the same collection are merged (the union of their paths;
// every field if any of them says so). Any error fails the whole scan, since
// a partial count could let a key in use be deleted.
func (v *Vault) ScanUsage(ctx context.Context, targets []ScanTarget, ids []model.KeyID, progress ScanProgress) (model.KeyUsage, error) {
	usage := model.KeyUsage{}
	if len(ids) == 0 || len(targets) == 0 {
		return usage, nil
	}
	m := newKeyMatcher(ids)
	merged := mergeScanTargets(targets)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rep := &scanReporter{fn: progress, last: time.Now()}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan ScanTarget)
	for w := 0; w < min(scanWorkers, len(merged)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				counts, err := v.scanCollection(ctx, t, m, rep)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				} else {
					ns := t.Namespace()
					for i, n := range counts {
						if n == 0 {
							continue
						}
						if usage[m.ids[i]] == nil {
							usage[m.ids[i]] = map[string]int64{}
						}
						usage[m.ids[i]][ns] += n
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, t := range merged {
		select {
		case jobs <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vault: scanning for key usage: %w", err)
	}
	rep.done()
	return usage, nil
}

// scanCollection reads one collection and counts, per index of m.ids, the
// documents that hold ciphertext made with that key.
func (v *Vault) scanCollection(ctx context.Context, t ScanTarget, m *keyMatcher, rep *scanReporter) ([]int64, error) {
	opts := options.Find().SetBatchSize(scanBatchSize)
	if proj := scanProjection(t.Paths); proj != nil {
		opts.SetProjection(proj)
	}
	cur, err := v.client.Database(t.Database).Collection(t.Collection).Find(ctx, bson.D{}, opts)
	if err != nil {
		if isNamespaceNotFound(err) {
			return make([]int64, len(m.ids)), nil
		}
		return nil, fmt.Errorf("vault: scanning %s for key usage: %w", t.Namespace(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	c := newUsageCounter(m)
	var pending int64
	for cur.Next(ctx) {
		if !c.add(cur.Current) {
			return nil, fmt.Errorf("vault: scanning %s for key usage: the server sent a malformed document", t.Namespace())
		}
		if pending++; pending == 1024 {
			rep.add(pending)
			pending = 0
		}
	}
	rep.add(pending)
	if err := cur.Err(); err != nil {
		if isNamespaceNotFound(err) {
			return make([]int64, len(m.ids)), nil
		}
		return nil, fmt.Errorf("vault: scanning %s for key usage: %w", t.Namespace(), err)
	}
	return c.counts, nil
}

func isNamespaceNotFound(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 26
}

// mergeScanTargets gives one target per collection, in a stable order.
func mergeScanTargets(targets []ScanTarget) []ScanTarget {
	byNS := map[string]*ScanTarget{}
	var order []string
	for _, t := range targets {
		ns := t.Namespace()
		cur, ok := byNS[ns]
		if !ok {
			c := ScanTarget{Database: t.Database, Collection: t.Collection, Paths: append([]string(nil), t.Paths...)}
			if len(t.Paths) == 0 {
				c.Paths = nil
			}
			byNS[ns] = &c
			order = append(order, ns)
			continue
		}
		if cur.Paths == nil || len(t.Paths) == 0 {
			cur.Paths = nil
			continue
		}
		cur.Paths = append(cur.Paths, t.Paths...)
	}
	out := make([]ScanTarget, 0, len(order))
	for _, ns := range order {
		out = append(out, *byNS[ns])
	}
	return out
}

// scanProjection includes the paths and excludes _id (unless a path is in
// _id), or is nil for every field. A path inside another given path is
// dropped: the outer one's whole subtree is read and walked anyway, and
// MongoDB refuses a projection whose paths collide.
func scanProjection(paths []string) bson.D {
	if len(paths) == 0 {
		return nil
	}
	ps := append([]string(nil), paths...)
	sort.Slice(ps, func(i, j int) bool {
		if len(ps[i]) != len(ps[j]) {
			return len(ps[i]) < len(ps[j])
		}
		return ps[i] < ps[j]
	})
	kept := map[string]bool{}
	var keep []string
next:
	for _, p := range ps {
		if p == "" {
			return nil // the whole document
		}
		if kept[p] {
			continue
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '.' && kept[p[:j]] {
				continue next
			}
		}
		kept[p] = true
		keep = append(keep, p)
	}
	sort.Strings(keep)
	proj := bson.D{}
	keepID := false
	for _, p := range keep {
		if p == "_id" || strings.HasPrefix(p, "_id.") {
			keepID = true
		}
		proj = append(proj, bson.E{Key: p, Value: 1})
	}
	if !keepID {
		proj = append(proj, bson.E{Key: "_id", Value: 0})
	}
	return proj
}

// keyMatcher finds a key id among the wanted ones: by linear search when
// there are few (faster than hashing), else through a map.
type keyMatcher struct {
	ids   []model.KeyID
	index map[[16]byte]int
}

const keyMatcherLinearMax = 8

func newKeyMatcher(ids []model.KeyID) *keyMatcher {
	m := &keyMatcher{}
	seen := map[model.KeyID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			m.ids = append(m.ids, id)
		}
	}
	if len(m.ids) > keyMatcherLinearMax {
		m.index = make(map[[16]byte]int, len(m.ids))
		for i, id := range m.ids {
			m.index[id] = i
		}
	}
	return m
}

// lookup returns the index of the id in b (16 bytes), or -1.
func (m *keyMatcher) lookup(b []byte) int {
	id := [16]byte(b)
	if m.index != nil {
		if i, ok := m.index[id]; ok {
			return i
		}
		return -1
	}
	for i := range m.ids {
		if m.ids[i] == id {
			return i
		}
	}
	return -1
}

// usageCounter counts documents per wanted key. seen[i] holds the number of
// the last document counted for key i, so a key found twice in a document
// counts once with no per-document reset.
type usageCounter struct {
	m      *keyMatcher
	counts []int64
	seen   []uint64
	doc    uint64
}

func newUsageCounter(m *keyMatcher) *usageCounter {
	return &usageCounter{m: m, counts: make([]int64, len(m.ids)), seen: make([]uint64, len(m.ids))}
}

// add walks one document. It reports false if the document is malformed.
func (c *usageCounter) add(doc bson.Raw) bool {
	c.doc++
	return c.walk(doc, 0)
}

func (c *usageCounter) hit(keyID []byte) {
	i := c.m.lookup(keyID)
	if i >= 0 && c.seen[i] != c.doc {
		c.seen[i] = c.doc
		c.counts[i]++
	}
}

// scanMaxDepth bounds recursion on documents no server would store
// (MongoDB nests at most 100 levels, and its wire format 180).
const scanMaxDepth = 200

// walk goes through the elements of a BSON document (or array) in place,
// without decoding values it does not need, and descends into embedded
// documents and arrays.
func (c *usageCounter) walk(doc []byte, depth int) bool {
	if depth > scanMaxDepth || len(doc) < 5 {
		return false
	}
	n := int(binary.LittleEndian.Uint32(doc))
	if n < 5 || n > len(doc) || doc[n-1] != 0 {
		return false
	}
	end := n - 1
	i := 4
	for i < end {
		t := doc[i]
		i++
		k := bytes.IndexByte(doc[i:end], 0)
		if k < 0 {
			return false
		}
		i += k + 1
		var l int
		switch t {
		case 0x03, 0x04: // document, array
			if end-i < 5 {
				return false
			}
			l = int(binary.LittleEndian.Uint32(doc[i:]))
			if l < 5 || l > end-i || !c.walk(doc[i:i+l], depth+1) {
				return false
			}
		case 0x05: // binary
			if end-i < 5 {
				return false
			}
			dl := int(binary.LittleEndian.Uint32(doc[i:]))
			if dl < 0 || dl > end-i-5 {
				return false
			}
			if doc[i+4] == binarySubtypeEncrypted && dl >= scanPrefixLen && storedBlobSubtype[doc[i+5]] {
				c.hit(doc[i+6 : i+6+16])
			}
			l = 5 + dl
		case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
			l = 8
		case 0x10: // int32
			l = 4
		case 0x08: // boolean
			l = 1
		case 0x07: // ObjectId
			l = 12
		case 0x13: // decimal128
			l = 16
		case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, maxKey, minKey
			l = 0
		case 0x02, 0x0D, 0x0E: // string, JavaScript, symbol
			if end-i < 4 {
				return false
			}
			l = 4 + int(binary.LittleEndian.Uint32(doc[i:]))
		default: // regex, DBPointer, code with scope
			_, rem, ok := bsoncore.ReadValue(doc[i:end], bsontype.Type(t))
			if !ok {
				return false
			}
			l = end - i - len(rem)
		}
		if l < 0 || l > end-i {
			return false
		}
		i += l
	}
	return i == end
}

// scanReporter throttles progress reports from concurrent workers.
type scanReporter struct {
	fn      ScanProgress
	scanned atomic.Int64
	mu      sync.Mutex
	last    time.Time
}

func (r *scanReporter) add(n int64) {
	total := r.scanned.Add(n)
	if r.fn == nil || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.last) >= scanProgressEvery {
		r.last = now
		r.fn(total)
	}
}

func (r *scanReporter) done() {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(r.scanned.Load())
}

// AllCollections lists every collection of the cluster for a full scan:
// every database except admin, local and config, skipping system.*
// collections, views, and the key vault collection itself.
func (v *Vault) AllCollections(ctx context.Context) ([]ScanTarget, error) {
	dbs, err := v.client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("vault: listing databases: %w", err)
	}
	sort.Strings(dbs)
	var out []ScanTarget
	for _, db := range dbs {
		switch db {
		case "admin", "local", "config":
			continue
		}
		specs, err := v.client.Database(db).ListCollectionSpecifications(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("vault: listing the collections of %s: %w", db, err)
		}
		var names []string
		for _, s := range specs {
			if s.Type == "view" || strings.HasPrefix(s.Name, "system.") || db+"."+s.Name == v.namespace {
				continue
			}
			names = append(names, s.Name)
		}
		sort.Strings(names)
		pointers := map[string][]string{}
		named := map[string][]model.KeyID{}
		for _, s := range specs {
			p, ids, err := schemaReferences(s.Options)
			if err != nil {
				return nil, fmt.Errorf("vault: the schema of %s.%s: %w", db, s.Name, err)
			}
			pointers[s.Name], named[s.Name] = p, ids
		}
		for _, n := range names {
			out = append(out, ScanTarget{Database: db, Collection: n, AltNamePointers: pointers[n], NamedKeyIDs: named[n]})
		}
	}
	return out, nil
}
