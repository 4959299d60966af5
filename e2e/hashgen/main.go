// Command hashgen produces the golden vectors for the pod-template hash and the step hash of
// Argo Rollouts v1.9.1, and a Rust description of the Go types the hashed JSON is encoded from.
//
// The vectors are Argo's own output: every case is pushed through the same path as a Rollout
// that reaches the v1.9.1 controller, using the same libraries:
//
//  1. apiserver normalisation: the API server decodes a custom resource into unstructured
//     (k8s.io/apimachinery/pkg/util/json, i.e. sigs.k8s.io/json with PreserveInts) and stores
//     and serves it re-encoded by Go encoding/json (sorted keys, int64 or float64 numbers,
//     HTML-escaped strings);
//  2. the controller's informer decodes that JSON into v1alpha1.Rollout with the non-strict
//     k8s JSON serializer (sigs.k8s.io/json UnmarshalCaseSensitivePreserveInts: case-sensitive
//     field names, unknown fields dropped);
//  3. the sync loop deep-copies the Rollout through a JSON remarshal (rollout/controller.go
//     remarshalRollout: encoding/json Marshal then Unmarshal);
//  4. github.com/argoproj/argo-rollouts/utils/hash.ComputePodTemplateHash and
//     utils/conditions.ComputeStepHash are called on the result.
//
// The program also recomputes FNV-32a over the bytes it records and checks that it agrees
// with Argo's functions, and that the pinned vectors of the contract (Addendum A) come out.
//
// Usage: hashgen -cases cases.json -vectors OUT.json -gotypes OUT.rs
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"reflect"
	"runtime"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/conditions"
	"github.com/argoproj/argo-rollouts/utils/hash"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/rand"
	kjson "sigs.k8s.io/json"
)

// Versions recorded in the vectors file; the build pins them in go.mod.
const (
	argoVersion = "v1.9.1"
	k8sVersion  = "v0.34.1"
)

type templateCase struct {
	Name           string          `json:"name"`
	Template       json.RawMessage `json:"template"`
	CollisionCount *int32          `json:"collisionCount"`
	// ExpectHash, if set, is a pinned hash the case must produce (contract Addendum A).
	ExpectHash string `json:"expectHash,omitempty"`
	// ExpectLegacyHash, if set, is the pinned hash of the <= 1.8 form.
	ExpectLegacyHash string `json:"expectLegacyHash,omitempty"`
	// ExpectError marks a case Go must reject.
	ExpectError bool `json:"expectError,omitempty"`
}

type stepsCase struct {
	Name string `json:"name"`
	// Steps is copied verbatim into spec.strategy.canary.steps; absent means the key is absent.
	Steps       json.RawMessage `json:"steps,omitempty"`
	ExpectHash  string          `json:"expectHash,omitempty"`
	ExpectError bool            `json:"expectError,omitempty"`
}

type casesFile struct {
	Templates []templateCase `json:"templates"`
	Steps     []stepsCase    `json:"steps"`
	// Quantities are fed to resource.ParseQuantity and Quantity.MarshalJSON directly.
	Quantities []string `json:"quantities"`
}

type quantityVector struct {
	Input  string `json:"input"`
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

type templateVector struct {
	Name           string          `json:"name"`
	Input          json.RawMessage `json:"input"`
	CollisionCount *int32          `json:"collisionCount"`
	Error          string          `json:"error,omitempty"`
	GoJSON         *string         `json:"goJson,omitempty"`
	Fnv32a         *uint32         `json:"fnv32a,omitempty"`
	Hash           string          `json:"hash,omitempty"`
	LegacyGoJSON   *string         `json:"legacyGoJson,omitempty"`
	LegacyFnv32a   *uint32         `json:"legacyFnv32a,omitempty"`
	LegacyHash     string          `json:"legacyHash,omitempty"`
}

type stepsVector struct {
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input,omitempty"`
	Error  string          `json:"error,omitempty"`
	GoJSON *string         `json:"goJson,omitempty"`
	Fnv32a *uint32         `json:"fnv32a,omitempty"`
	Hash   string          `json:"hash,omitempty"`
}

type vectorsFile struct {
	Comment    string           `json:"comment"`
	Argo       string           `json:"argoRollouts"`
	K8s        string           `json:"k8sApi"`
	Templates  []templateVector `json:"templates"`
	Steps      []stepsVector    `json:"steps"`
	Quantities []quantityVector `json:"quantities"`
}

func main() {
	casesPath := flag.String("cases", "cases.json", "input cases")
	vectorsPath := flag.String("vectors", "", "output vectors JSON")
	gotypesPath := flag.String("gotypes", "", "output Rust type table")
	flag.Parse()
	if err := run(*casesPath, *vectorsPath, *gotypesPath); err != nil {
		fmt.Fprintln(os.Stderr, "hashgen: FAILED:", err)
		os.Exit(1)
	}
}

func run(casesPath, vectorsPath, gotypesPath string) error {
	if err := checkPinnedVectors(); err != nil {
		return err
	}
	raw, err := os.ReadFile(casesPath)
	if err != nil {
		return err
	}
	var cases casesFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		return fmt.Errorf("%s: %w", casesPath, err)
	}
	out := vectorsFile{
		Comment: "generated by e2e/hashgen from e2e/hashgen/cases.json; do not edit. " +
			"input is the object as served by the API server; goJson is the exact encoding/json output " +
			"Argo Rollouts " + argoVersion + " hashes (k8s.io/api " + k8sVersion + ")",
		Argo: argoVersion,
		K8s:  k8sVersion,
	}
	names := map[string]bool{}
	for _, c := range cases.Templates {
		if names[c.Name] {
			return fmt.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		v, err := templateVectorFor(c)
		if err != nil {
			return fmt.Errorf("template case %q: %w", c.Name, err)
		}
		out.Templates = append(out.Templates, v)
	}
	for _, c := range cases.Steps {
		if names[c.Name] {
			return fmt.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		v, err := stepsVectorFor(c)
		if err != nil {
			return fmt.Errorf("steps case %q: %w", c.Name, err)
		}
		out.Steps = append(out.Steps, v)
	}
	seen := map[string]bool{}
	for _, q := range cases.Quantities {
		if seen[q] {
			return fmt.Errorf("duplicate quantity case %q", q)
		}
		seen[q] = true
		out.Quantities = append(out.Quantities, quantityVectorFor(q))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if vectorsPath != "" {
		if err := os.WriteFile(vectorsPath, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if gotypesPath != "" {
		src, err := generateGoTypes()
		if err != nil {
			return err
		}
		if err := os.WriteFile(gotypesPath, src, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "hashgen: %d template vectors, %d step vectors, %d quantity vectors (%s)\n",
		len(out.Templates), len(out.Steps), len(out.Quantities), runtime.Version())
	return nil
}

// normalize mimics the API server: decode into unstructured and re-encode.
func normalize(raw []byte) ([]byte, error) {
	var v any
	if err := utiljson.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return utiljson.Marshal(v)
}

// decodeRollout mimics the controller: informer decode, then remarshalRollout.
func decodeRollout(served []byte) (*v1alpha1.Rollout, error) {
	var r v1alpha1.Rollout
	if err := kjson.UnmarshalCaseSensitivePreserveInts(served, &r); err != nil {
		return nil, err
	}
	// rollout/controller.go remarshalRollout (which panics on error).
	b, err := json.Marshal(&r)
	if err != nil {
		return nil, fmt.Errorf("remarshal: %w", err)
	}
	var remarshalled v1alpha1.Rollout
	if err := json.Unmarshal(b, &remarshalled); err != nil {
		return nil, fmt.Errorf("remarshal: %w", err)
	}
	return &remarshalled, nil
}

func fnv32a(b []byte, collisionCount *int32) uint32 {
	h := fnv.New32a()
	h.Write(b)
	if collisionCount != nil {
		cc := make([]byte, 8)
		binary.LittleEndian.PutUint32(cc, uint32(*collisionCount))
		h.Write(cc)
	}
	return h.Sum32()
}

func safeHash(sum uint32) string {
	return rand.SafeEncodeString(fmt.Sprint(sum))
}

// legacyObjectMeta is metav1.ObjectMeta of apimachinery v0.34.1 with the CreationTimestamp tag of
// apimachinery < v0.34 (no omitzero), as used by Argo Rollouts <= 1.8: a zero timestamp is then
// encoded as null at its Go field position. Go converts between struct types whose fields differ
// only in tags, so the assertion below stops compiling if the field set ever drifts.
type legacyObjectMeta struct {
	Name                       string                      `json:"name,omitempty"`
	GenerateName               string                      `json:"generateName,omitempty"`
	Namespace                  string                      `json:"namespace,omitempty"`
	SelfLink                   string                      `json:"selfLink,omitempty"`
	UID                        types.UID                   `json:"uid,omitempty"`
	ResourceVersion            string                      `json:"resourceVersion,omitempty"`
	Generation                 int64                       `json:"generation,omitempty"`
	CreationTimestamp          metav1.Time                 `json:"creationTimestamp,omitempty"`
	DeletionTimestamp          *metav1.Time                `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64                      `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string           `json:"labels,omitempty"`
	Annotations                map[string]string           `json:"annotations,omitempty"`
	OwnerReferences            []metav1.OwnerReference     `json:"ownerReferences,omitempty"`
	Finalizers                 []string                    `json:"finalizers,omitempty"`
	ManagedFields              []metav1.ManagedFieldsEntry `json:"managedFields,omitempty"`
}

var _ = legacyObjectMeta(metav1.ObjectMeta{})

var (
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
	legacyTypes    = map[reflect.Type]reflect.Type{}
)

// legacyType returns t with every metav1.ObjectMeta replaced by legacyObjectMeta (struct types
// that contain one are rebuilt with reflect.StructOf, same fields and tags).
func legacyType(t reflect.Type, depth int) (reflect.Type, error) {
	if lt, ok := legacyTypes[t]; ok {
		return lt, nil
	}
	if depth > 64 {
		return nil, fmt.Errorf("legacyType: type graph too deep at %s", t)
	}
	lt := t
	switch {
	case t == objectMetaType:
		lt = reflect.TypeFor[legacyObjectMeta]()
	case t.Kind() == reflect.Pointer:
		e, err := legacyType(t.Elem(), depth+1)
		if err != nil {
			return nil, err
		}
		if e != t.Elem() {
			lt = reflect.PointerTo(e)
		}
	case t.Kind() == reflect.Slice:
		e, err := legacyType(t.Elem(), depth+1)
		if err != nil {
			return nil, err
		}
		if e != t.Elem() {
			lt = reflect.SliceOf(e)
		}
	case t.Kind() == reflect.Map:
		e, err := legacyType(t.Elem(), depth+1)
		if err != nil {
			return nil, err
		}
		if e != t.Elem() {
			lt = reflect.MapOf(t.Key(), e)
		}
	case t.Kind() == reflect.Struct && !hasCustomJSON(t):
		changed := false
		var fields []reflect.StructField
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			ft, err := legacyType(sf.Type, depth+1)
			if err != nil {
				return nil, err
			}
			if ft != sf.Type {
				changed = true
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if sf.Anonymous && name == "" && ft != sf.Type {
				// An inline struct that changed: flatten its fields, as encoding/json does.
				if ft.Kind() != reflect.Struct {
					return nil, fmt.Errorf("legacyType: %s embeds %s", t, sf.Type)
				}
				for j := 0; j < ft.NumField(); j++ {
					fields = append(fields, ft.Field(j))
				}
				continue
			}
			fields = append(fields, reflect.StructField{Name: sf.Name, Type: ft, Tag: sf.Tag, Anonymous: sf.Anonymous && ft == sf.Type && name == ""})
		}
		if changed {
			lt = reflect.StructOf(fields)
		}
	}
	legacyTypes[t] = lt
	return lt, nil
}

// legacyBytes encodes the <= 1.8 form of a template (contract Addendum A): the v1.9.1 bytes are
// decoded into the legacy variant of PodTemplateSpec and encoded again.
func legacyBytes(current []byte) ([]byte, error) {
	lt, err := legacyType(reflect.TypeFor[corev1.PodTemplateSpec](), 0)
	if err != nil {
		return nil, err
	}
	v := reflect.New(lt)
	if err := json.Unmarshal(current, v.Interface()); err != nil {
		return nil, err
	}
	return json.Marshal(v.Interface())
}

func templateVectorFor(c templateCase) (templateVector, error) {
	v := templateVector{Name: c.Name, CollisionCount: c.CollisionCount}
	served, err := normalize(c.Template)
	if err != nil {
		return v, fmt.Errorf("apiserver normalisation: %w", err)
	}
	v.Input = served
	var obj bytes.Buffer
	obj.WriteString(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"r"},"spec":{"template":`)
	obj.Write(served)
	obj.WriteString(`}}`)
	r, err := decodeRollout(obj.Bytes())
	if err != nil {
		if !c.ExpectError {
			return v, fmt.Errorf("unexpected decode error: %w", err)
		}
		v.Error = err.Error()
		return v, nil
	}
	if c.ExpectError {
		return v, fmt.Errorf("expected a decode error, got none")
	}
	r.Status.CollisionCount = c.CollisionCount
	argoHash := hash.ComputePodTemplateHash(&r.Spec.Template, r.Status.CollisionCount)
	b, err := json.Marshal(&r.Spec.Template)
	if err != nil {
		return v, err
	}
	sum := fnv32a(b, c.CollisionCount)
	if safeHash(sum) != argoHash {
		return v, fmt.Errorf("own FNV %s disagrees with ComputePodTemplateHash %s", safeHash(sum), argoHash)
	}
	if c.ExpectHash != "" && argoHash != c.ExpectHash {
		return v, fmt.Errorf("pinned vector broken: got %s, want %s (bytes %s)", argoHash, c.ExpectHash, b)
	}
	s := string(b)
	v.GoJSON, v.Fnv32a, v.Hash = &s, &sum, argoHash

	lb, err := legacyBytes(b)
	if err != nil {
		return v, fmt.Errorf("legacy form: %w", err)
	}
	lsum := fnv32a(lb, c.CollisionCount)
	ls := string(lb)
	v.LegacyGoJSON, v.LegacyFnv32a, v.LegacyHash = &ls, &lsum, safeHash(lsum)
	if c.ExpectLegacyHash != "" && v.LegacyHash != c.ExpectLegacyHash {
		return v, fmt.Errorf("pinned legacy vector broken: got %s, want %s (bytes %s)", v.LegacyHash, c.ExpectLegacyHash, lb)
	}
	return v, nil
}

func stepsVectorFor(c stepsCase) (stepsVector, error) {
	v := stepsVector{Name: c.Name}
	var obj bytes.Buffer
	obj.WriteString(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"r"},"spec":{"strategy":{"canary":{`)
	if c.Steps != nil {
		obj.WriteString(`"steps":`)
		obj.Write(c.Steps)
	}
	obj.WriteString(`}}}}`)
	served, err := normalize(obj.Bytes())
	if err != nil {
		return v, fmt.Errorf("apiserver normalisation: %w", err)
	}
	if c.Steps != nil {
		var probe struct {
			Spec struct {
				Strategy struct {
					Canary map[string]json.RawMessage `json:"canary"`
				} `json:"strategy"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(served, &probe); err != nil {
			return v, err
		}
		v.Input = probe.Spec.Strategy.Canary["steps"]
	}
	r, err := decodeRollout(served)
	if err != nil {
		if !c.ExpectError {
			return v, fmt.Errorf("unexpected decode error: %w", err)
		}
		v.Error = err.Error()
		return v, nil
	}
	if c.ExpectError {
		return v, fmt.Errorf("expected a decode error, got none")
	}
	argoHash := conditions.ComputeStepHash(r)
	b, err := json.Marshal(r.Spec.Strategy.Canary.Steps)
	if err != nil {
		return v, err
	}
	sum := fnv32a(b, nil)
	if safeHash(sum) != argoHash {
		return v, fmt.Errorf("own FNV %s disagrees with ComputeStepHash %s", safeHash(sum), argoHash)
	}
	if c.ExpectHash != "" && argoHash != c.ExpectHash {
		return v, fmt.Errorf("pinned vector broken: got %s, want %s (bytes %s)", argoHash, c.ExpectHash, b)
	}
	s := string(b)
	v.GoJSON, v.Fnv32a, v.Hash = &s, &sum, argoHash
	return v, nil
}

func quantityVectorFor(s string) quantityVector {
	v := quantityVector{Input: s}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	b, err := q.MarshalJSON()
	if err != nil {
		v.Error = err.Error()
		return v
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		v.Error = err.Error()
		return v
	}
	v.Output = str
	return v
}

// checkPinnedVectors checks the byte-level vectors of the contract (Addendum A) directly.
func checkPinnedVectors() error {
	pinned := []struct {
		bytes string
		sum   uint32
		hash  string
	}{
		{`{"metadata":{"labels":{"name":"red"}},"spec":{"containers":[{"name":"red","image":"red","resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"Always"}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst","securityContext":{}}}`, 1934834708, "5f78d78c4d"},
		{`{"metadata":{"creationTimestamp":null,"labels":{"name":"red"}},"spec":{"containers":[{"name":"red","image":"red","resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"Always"}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst","securityContext":{}}}`, 3660967452, "7bb4fbc896"},
		{`null`, 1996966820, "5ffbfbbd64"},
		{`[{"pause":{}}]`, 2656429681, "6b9b86fbd5"},
		{`[{"pause":{}},{"pause":{}}]`, 3575659269, "79c9b9f6bf"},
	}
	var failures []string
	for _, p := range pinned {
		sum := fnv32a([]byte(p.bytes), nil)
		if sum != p.sum || safeHash(sum) != p.hash {
			failures = append(failures, fmt.Sprintf("%s: got %d/%s, want %d/%s", p.bytes, sum, safeHash(sum), p.sum, p.hash))
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("pinned vectors of the contract do not come out:\n  %s", strings.Join(failures, "\n  "))
	}
	return nil
}
