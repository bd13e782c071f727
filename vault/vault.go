package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/mongocrypt"

	"github.com/csfle/csfle/kms"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

// LibmongocryptVersion reports the linked libmongocrypt, or "" when the
// binary was built without the cse tag.
func LibmongocryptVersion() string { return mongocrypt.Version() }

// Vault is an open key vault.
type Vault struct {
	client    *mongo.Client
	coll      *mongo.Collection
	namespace string
	providers *kms.Providers
	uri       secret.Value

	mu sync.Mutex
	ce *mongo.ClientEncryption
	// retired are handles replaced after a credential refresh; operations
	// may still be using them, so they are closed with the vault. The first
	// of them (or ce) owns client.
	retired []*mongo.ClientEncryption
}

// Open connects to the key vault. The URI is a secret because it may hold a
// password; errors from the driver are kept free of it.
func Open(ctx context.Context, uri secret.Value, namespace string, providers *kms.Providers) (*Vault, error) {
	if LibmongocryptVersion() == "" {
		return nil, errors.New("vault: this csfle was built without client-side encryption (libmongocrypt); rebuild it with -tags cse (scripts/build.sh does)")
	}
	db, coll, ok := strings.Cut(namespace, ".")
	if !ok || db == "" || coll == "" {
		return nil, fmt.Errorf("vault: key vault namespace %q is not DB.COLLECTION", namespace)
	}
	v := &Vault{namespace: namespace, providers: providers, uri: uri}
	client, ce, err := v.connect(ctx)
	if err != nil {
		return nil, err
	}
	v.client, v.ce = client, ce
	v.coll = client.Database(db).Collection(coll)
	return v, nil
}

// connect opens a client and a libmongocrypt handle on it. Closing the
// ClientEncryption disconnects the client too.
func (v *Vault) connect(ctx context.Context) (*mongo.Client, *mongo.ClientEncryption, error) {
	clientOpts := options.Client().ApplyURI(v.uri.RevealString())
	if clientOpts.ServerSelectionTimeout == nil { // the URI's serverSelectionTimeoutMS wins
		clientOpts.SetServerSelectionTimeout(10 * time.Second)
	}
	client, err := mongo.Connect(ctx, clientOpts)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: connecting to the key vault: %w", scrub(err, v.uri))
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(ctx)
		return nil, nil, fmt.Errorf("vault: the key vault's server does not answer; check key_vault's uri and that the server is running and reachable: %w", scrub(err, v.uri))
	}
	opts := options.ClientEncryption().
		SetKeyVaultNamespace(v.namespace).
		SetKmsProviders(v.providers.DriverProviders()).
		SetTLSConfig(v.providers.TLSConfigs())
	ce, err := mongo.NewClientEncryption(client, opts)
	if err != nil {
		_ = client.Disconnect(ctx)
		return nil, nil, fmt.Errorf("vault: starting libmongocrypt: %w", err)
	}
	return client, ce, nil
}

// Close disconnects.
func (v *Vault) Close(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	for _, ce := range append(v.retired, v.ce) {
		errs = append(errs, ce.Close(ctx))
	}
	return errors.Join(errs...)
}

// encryption returns the libmongocrypt handle to use now: when the KMS
// credentials were renewed (temporary AWS credentials during a long apply),
// a new handle with the new ones.
func (v *Vault) encryption(ctx context.Context) (*mongo.ClientEncryption, error) {
	changed, err := v.providers.Refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if changed {
		_, ce, err := v.connect(ctx)
		if err != nil {
			return nil, err
		}
		v.retired = append(v.retired, v.ce)
		v.ce = ce
	}
	return v.ce, nil
}

// Namespace is the key vault's DB.COLLECTION.
func (v *Vault) Namespace() string { return v.namespace }

// keyDoc is the part of a key document csfle reads: never keyMaterial.
type keyDoc struct {
	ID           primitive.Binary `bson:"_id"`
	KeyAltNames  []string         `bson:"keyAltNames"`
	MasterKey    bson.Raw         `bson:"masterKey"`
	CreationDate time.Time        `bson:"creationDate"`
	UpdateDate   time.Time        `bson:"updateDate"`
	Status       int              `bson:"status"`
}

var keyProjection = bson.D{{Key: "keyMaterial", Value: 0}}

func (d keyDoc) live() (model.LiveKey, error) {
	if d.ID.Subtype != 4 || len(d.ID.Data) != 16 {
		return model.LiveKey{}, fmt.Errorf("vault: a key document has an _id that is not a UUID (subtype %d, %d bytes)", d.ID.Subtype, len(d.ID.Data))
	}
	var id model.KeyID
	copy(id[:], d.ID.Data)
	mk, err := masterKeyFromBSON(d.MasterKey)
	if err != nil {
		return model.LiveKey{}, fmt.Errorf("vault: key %s: %w", id, err)
	}
	alt := append([]string(nil), d.KeyAltNames...)
	sort.Strings(alt)
	return model.LiveKey{ID: id, AltNames: alt, MasterKey: mk, Created: d.CreationDate, Updated: d.UpdateDate, Status: d.Status}, nil
}

func masterKeyFromBSON(raw bson.Raw) (model.MasterKey, error) {
	elems, err := raw.Elements()
	if err != nil {
		return model.MasterKey{}, fmt.Errorf("masterKey is not a document: %w", err)
	}
	mk := model.MasterKey{}
	for _, e := range elems {
		k, val := e.Key(), e.Value()
		if k == "provider" {
			mk.Provider = val.StringValue()
			continue
		}
		if mk.Fields == nil {
			mk.Fields = map[string]string{}
		}
		switch val.Type {
		case bson.TypeString:
			mk.Fields[k] = val.StringValue()
		case bson.TypeBoolean:
			mk.Fields[k] = fmt.Sprint(val.Boolean())
		default:
			mk.Fields[k] = val.String()
		}
	}
	if mk.Provider == "" {
		return model.MasterKey{}, errors.New("masterKey has no provider")
	}
	return mk, nil
}

func masterKeyToBSON(mk model.MasterKey) bson.D {
	d := bson.D{}
	for _, k := range mk.FieldNames() {
		var v any = mk.Fields[k]
		if k == "delegated" { // kmip: a boolean, and false is the default
			if mk.Fields[k] != "true" {
				continue // libmongocrypt 1.7 refuses the field even when false
			}
			v = true
		}
		d = append(d, bson.E{Key: k, Value: v})
	}
	return d
}

func binID(id model.KeyID) primitive.Binary {
	return primitive.Binary{Subtype: 4, Data: append([]byte(nil), id[:]...)}
}

// Read reads every key document and the alt-name index in one pass.
func (v *Vault) Read(ctx context.Context) (model.Live, error) {
	live := model.Live{Namespace: v.namespace}
	cur, err := v.coll.Find(ctx, bson.D{}, options.Find().SetProjection(keyProjection).SetBatchSize(10000))
	if err != nil {
		return model.Live{}, fmt.Errorf("vault: reading %s: %w", v.namespace, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d keyDoc
		if err := cur.Decode(&d); err != nil {
			return model.Live{}, fmt.Errorf("vault: %s holds a document that is not a data key (%v); a key vault must hold data keys only: move that document out, or give key_vault another namespace", v.namespace, err)
		}
		k, err := d.live()
		if err != nil {
			return model.Live{}, err
		}
		live.Keys = append(live.Keys, k)
	}
	if err := cur.Err(); err != nil {
		return model.Live{}, fmt.Errorf("vault: reading %s: %w", v.namespace, err)
	}
	model.SortKeys(live.Keys)
	live.AltNamesIndex, err = v.indexState(ctx)
	return live, err
}

// Get reads one key back.
func (v *Vault) Get(ctx context.Context, id model.KeyID) (model.LiveKey, bool, error) {
	var d keyDoc
	err := v.coll.FindOne(ctx, bson.D{{Key: "_id", Value: binID(id)}}, options.FindOne().SetProjection(keyProjection)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return model.LiveKey{}, false, nil
	}
	if err != nil {
		return model.LiveKey{}, false, fmt.Errorf("vault: reading key %s: %w", id, err)
	}
	k, err := d.live()
	return k, err == nil, err
}

// CreateKey creates a data key through libmongocrypt.
func (v *Vault) CreateKey(ctx context.Context, mk model.MasterKey, altNames []string) (model.KeyID, error) {
	opts := options.DataKey().SetKeyAltNames(altNames)
	if len(mk.Fields) > 0 {
		opts.SetMasterKey(masterKeyToBSON(mk))
	}
	ce, err := v.encryption(ctx)
	if err != nil {
		return model.KeyID{}, err
	}
	b, err := ce.CreateDataKey(ctx, mk.Provider, opts)
	if err != nil {
		return model.KeyID{}, fmt.Errorf("vault: creating a data key under %s: %w", mk, err)
	}
	var id model.KeyID
	copy(id[:], b.Data)
	return id, nil
}

// SetAltNames adds and removes alt names with plain update operators (the
// driver's RemoveKeyAltName uses a pipeline update some servers lack).
func (v *Vault) SetAltNames(ctx context.Context, id model.KeyID, add, remove []string) error {
	filter := bson.D{{Key: "_id", Value: binID(id)}}
	if len(add) > 0 {
		upd := bson.D{
			{Key: "$addToSet", Value: bson.D{{Key: "keyAltNames", Value: bson.D{{Key: "$each", Value: add}}}}},
			{Key: "$currentDate", Value: bson.D{{Key: "updateDate", Value: true}}},
		}
		if err := v.updateOne(ctx, id, filter, upd); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		upd := bson.D{
			{Key: "$pullAll", Value: bson.D{{Key: "keyAltNames", Value: remove}}},
			{Key: "$currentDate", Value: bson.D{{Key: "updateDate", Value: true}}},
		}
		if err := v.updateOne(ctx, id, filter, upd); err != nil {
			return err
		}
		// An empty keyAltNames array would defeat the partial unique index's
		// filter ($exists), so drop the field when no name is left.
		clean := bson.D{{Key: "_id", Value: binID(id)}, {Key: "keyAltNames", Value: bson.D{{Key: "$size", Value: 0}}}}
		if _, err := v.coll.UpdateOne(ctx, clean, bson.D{{Key: "$unset", Value: bson.D{{Key: "keyAltNames", Value: ""}}}}); err != nil {
			return fmt.Errorf("vault: key %s: removing the empty keyAltNames: %w", id, err)
		}
	}
	return nil
}

func (v *Vault) updateOne(ctx context.Context, id model.KeyID, filter, upd bson.D) error {
	res, err := v.coll.UpdateOne(ctx, filter, upd)
	if err != nil {
		return fmt.Errorf("vault: updating the alt names of key %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("vault: key %s is no longer in %s", id, v.namespace)
	}
	return nil
}

// Rewrap re-encrypts a key's material under a new master key; the id and
// the key material itself stay the same.
func (v *Vault) Rewrap(ctx context.Context, id model.KeyID, mk model.MasterKey) error {
	opts := options.RewrapManyDataKey().SetProvider(mk.Provider)
	if len(mk.Fields) > 0 {
		opts.SetMasterKey(masterKeyToBSON(mk))
	}
	ce, err := v.encryption(ctx)
	if err != nil {
		return err
	}
	res, err := ce.RewrapManyDataKey(ctx, bson.D{{Key: "_id", Value: binID(id)}}, opts)
	if err != nil {
		return fmt.Errorf("vault: rewrapping key %s under %s: %w", id, mk, err)
	}
	if res.BulkWriteResult == nil || res.BulkWriteResult.ModifiedCount != 1 {
		return fmt.Errorf("vault: rewrapping key %s: the server modified no document", id)
	}
	return nil
}

// Delete removes a key document.
func (v *Vault) Delete(ctx context.Context, id model.KeyID) error {
	if _, err := v.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: binID(id)}}); err != nil {
		return fmt.Errorf("vault: deleting key %s: %w", id, err)
	}
	return nil
}

// CheckDecrypt proves that the configured providers can unwrap the key: it
// encrypts and decrypts a probe value with it. libmongocrypt may answer from
// its data key cache, which is fine before a change: the key was unwrapped
// with the same master key.
func (v *Vault) CheckDecrypt(ctx context.Context, id model.KeyID) error {
	ce, err := v.encryption(ctx)
	if err != nil {
		return err
	}
	return roundTrip(ctx, ce, id)
}

// VerifyDecrypt is CheckDecrypt on a new connection and libmongocrypt
// handle, whose empty cache makes the round trip unwrap the key through the
// KMS its document names now: the proof after a rewrap.
func (v *Vault) VerifyDecrypt(ctx context.Context, id model.KeyID) error {
	if _, err := v.providers.Refresh(ctx); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	_, ce, err := v.connect(ctx)
	if err != nil {
		return err
	}
	defer ce.Close(ctx)
	return roundTrip(ctx, ce, id)
}

func roundTrip(ctx context.Context, ce *mongo.ClientEncryption, id model.KeyID) error {
	probe := "csfle unwrap check " + id.String()
	t, data, err := bson.MarshalValue(probe)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	enc, err := ce.Encrypt(ctx, bson.RawValue{Type: t, Value: data},
		options.Encrypt().SetAlgorithm("AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic").SetKeyID(binID(id)))
	if err != nil {
		return fmt.Errorf("vault: key %s cannot be unwrapped with the configured KMS providers: %w", id, err)
	}
	dec, err := ce.Decrypt(ctx, enc)
	if err != nil {
		return fmt.Errorf("vault: key %s: decrypting a probe value failed: %w", id, err)
	}
	if s, ok := dec.StringValueOK(); !ok || s != probe {
		return fmt.Errorf("vault: key %s: a probe value did not decrypt to what was encrypted", id)
	}
	return nil
}

// scrub removes the URI (which may hold a password) from driver errors.
func scrub(err error, uri secret.Value) error {
	s := uri.RevealString()
	if s == "" || !strings.Contains(err.Error(), s) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s, "(key vault uri)"))
}

// FindByAltName finds the key that carries an alt name.
func (v *Vault) FindByAltName(ctx context.Context, name string) (model.LiveKey, bool, error) {
	var d keyDoc
	err := v.coll.FindOne(ctx, bson.D{{Key: "keyAltNames", Value: name}}, options.FindOne().SetProjection(keyProjection)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return model.LiveKey{}, false, nil
	}
	if err != nil {
		return model.LiveKey{}, false, fmt.Errorf("vault: looking for the key with alt name %q: %w", name, err)
	}
	k, err := d.live()
	return k, err == nil, err
}

// IsTransient says whether an error is worth trying again: the server or
// a KMS dropped or refused a connection, timed out, answered with a 5xx
// status, or throttled. Errors that say the request itself is wrong (a
// denied permission, a missing key) are not.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	// libmongocrypt says "argument 'bytes' cannot be empty" when the driver
	// hands it the empty reply of a KMS that closed the connection.
	for _, s := range []string{"HTTP status=5", "argument 'bytes' cannot be empty", "status=429", "Throttling", "ThrottlingException", "TooManyRequests",
		"connection reset", "connection refused", "broken pipe", "i/o timeout", "unexpected EOF", "TLS handshake timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
