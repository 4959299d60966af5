package main

// Generation of src/replicaset/gotypes.rs: for every Go struct type reachable from
// corev1.PodTemplateSpec and []v1alpha1.CanaryStep, its JSON fields as encoding/json sees them
// (Go order, embedded structs flattened with the encoding/json dominance rules), so that the Rust
// encoder can re-encode a JSON object exactly as Go does after decoding it into these types.

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// specialTypes are the reachable types with custom JSON (un)marshalling, each of which the Rust
// encoder implements by hand. Any other type with custom marshalling fails the generator.
var specialTypes = map[string]string{
	"k8s.io/apimachinery/pkg/api/resource.Quantity":   "Quantity",
	"k8s.io/apimachinery/pkg/apis/meta/v1.Time":       "Time",
	"k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime":  "MicroTime",
	"k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1":   "FieldsV1",
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": "IntOrString",
	"k8s.io/apimachinery/pkg/runtime.RawExtension":    "RawExtension",
	"encoding/json.RawMessage":                        "RawMessage",
}

// rustImplemented lists the special kinds src/replicaset/hash.rs encodes.
var rustImplemented = map[string]bool{
	"Quantity": true, "Time": true, "FieldsV1": true, "IntOrString": true, "RawMessage": true, "Interface": true,
}

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func typeName(t reflect.Type) string {
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

func hasCustomJSON(t reflect.Type) bool {
	for _, it := range []reflect.Type{marshalerType, unmarshalerType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
			return true
		}
	}
	return false
}

type jsonField struct {
	name      string
	tag       bool
	index     []int
	typ       reflect.Type
	omitEmpty bool
	omitZero  bool
	viaPtr    bool // reached through an embedded pointer
}

// typeFields is encoding/json's typeFields (Go 1.24), reduced to what the table needs.
func typeFields(t reflect.Type) ([]jsonField, error) {
	type queued struct {
		typ    reflect.Type
		index  []int
		viaPtr bool
	}
	current := []queued{}
	next := []queued{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []jsonField
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				embeddedPtr := false
				if sf.Anonymous {
					t := sf.Type
					if t.Kind() == reflect.Pointer {
						t = t.Elem()
						embeddedPtr = true
					}
					if !sf.IsExported() && t.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				optList := strings.Split(opts, ",")
				if !isValidTag(name) {
					name = ""
				}
				if slices.Contains(optList, "string") {
					return nil, fmt.Errorf("%s.%s: the ,string option is not supported", typeName(f.typ), sf.Name)
				}
				index := append(slices.Clone(f.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, jsonField{
						name: name, tag: tagged, index: index, typ: sf.Type,
						omitEmpty: slices.Contains(optList, "omitempty"),
						omitZero:  slices.Contains(optList, "omitzero"),
						viaPtr:    f.viaPtr,
					})
					if count[f.typ] > 1 {
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index, viaPtr: f.viaPtr || embeddedPtr})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b jsonField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tag != b.tag {
			if a.tag {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		fi := fields[i]
		name := fi.name
		for advance = 1; i+advance < len(fields); advance++ {
			if fields[i+advance].name != name {
				break
			}
		}
		if advance == 1 {
			out = append(out, fi)
			continue
		}
		if dominant, ok := dominantField(fields[i : i+advance]); ok {
			out = append(out, dominant)
		}
	}
	fields = out
	slices.SortFunc(fields, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	for _, f := range fields {
		if f.viaPtr {
			return nil, fmt.Errorf("%s: field %s is promoted through an embedded pointer, not supported", typeName(t), f.name)
		}
	}
	return fields, nil
}

func dominantField(fields []jsonField) (jsonField, bool) {
	if len(fields) > 1 && len(fields[0].index) == len(fields[1].index) && fields[0].tag == fields[1].tag {
		return jsonField{}, false
	}
	return fields[0], true
}

func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c > 0x7f):
			return false
		}
	}
	return true
}

type typeTable struct {
	structs  []reflect.Type
	index    map[reflect.Type]int
	fields   map[reflect.Type][]jsonField
	specials map[string]bool
}

func (tt *typeTable) structIndex(t reflect.Type) int {
	if i, ok := tt.index[t]; ok {
		return i
	}
	tt.index[t] = len(tt.structs)
	tt.structs = append(tt.structs, t)
	return tt.index[t]
}

// kind renders the Rust GoKind expression for t.
func (tt *typeTable) kind(t reflect.Type, where string) (string, error) {
	if s, ok := specialTypes[typeName(t)]; ok {
		if !rustImplemented[s] {
			return "", fmt.Errorf("%s: %s is not implemented by src/replicaset/hash.rs", where, typeName(t))
		}
		tt.specials[s] = true
		return s, nil
	}
	if t.Kind() == reflect.Pointer && t.Name() == "" {
		k, err := tt.kind(t.Elem(), where)
		if err != nil {
			return "", err
		}
		return "Ptr(&" + k + ")", nil
	}
	if hasCustomJSON(t) {
		return "", fmt.Errorf("%s: type %s has custom JSON or text marshalling the Rust encoder does not know; add it to specialTypes and implement it", where, typeName(t))
	}
	switch t.Kind() {
	case reflect.String:
		return "String", nil
	case reflect.Bool:
		return "Bool", nil
	case reflect.Int, reflect.Int64:
		return "Int { bits: 64, signed: true }", nil
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return fmt.Sprintf("Int { bits: %d, signed: true }", t.Bits()), nil
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return "Int { bits: 64, signed: false }", nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return fmt.Sprintf("Int { bits: %d, signed: false }", t.Bits()), nil
	case reflect.Float32, reflect.Float64:
		return "", fmt.Errorf("%s: float fields are not implemented by src/replicaset/hash.rs (Go formats them ES6-style; add GoKind::Float)", where)
	case reflect.Struct:
		return fmt.Sprintf("Struct(%d)", tt.structIndex(t)), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !hasCustomJSON(t.Elem()) {
			return "", fmt.Errorf("%s: []byte (base64) fields are not implemented by src/replicaset/hash.rs", where)
		}
		k, err := tt.kind(t.Elem(), where)
		if err != nil {
			return "", err
		}
		return "Slice(&" + k + ")", nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String || hasCustomJSON(t.Key()) {
			return "", fmt.Errorf("%s: map key type %s not supported", where, t.Key())
		}
		k, err := tt.kind(t.Elem(), where)
		if err != nil {
			return "", err
		}
		return "Map(&" + k + ")", nil
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return "", fmt.Errorf("%s: non-empty interface %s not supported", where, t)
		}
		tt.specials["Interface"] = true
		return "Interface", nil
	}
	return "", fmt.Errorf("%s: unsupported type %s (kind %s)", where, t, t.Kind())
}

func rustString(s string) string {
	b, _ := json.Marshal(s) // ASCII field and type names: a JSON string is a valid Rust string
	return string(b)
}

func generateGoTypes() ([]byte, error) {
	tt := &typeTable{index: map[reflect.Type]int{}, fields: map[reflect.Type][]jsonField{}, specials: map[string]bool{}}
	podTemplate, err := tt.kind(reflect.TypeFor[corev1.PodTemplateSpec](), "root")
	if err != nil {
		return nil, err
	}
	steps, err := tt.kind(reflect.TypeFor[[]v1alpha1.CanaryStep](), "root")
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	for i := 0; i < len(tt.structs); i++ { // tt.structs grows while we walk
		t := tt.structs[i]
		fields, err := typeFields(t)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&body, "    // %d\n    GoStruct {\n        go_name: %s,\n        fields: &[\n", i, rustString(typeName(t)))
		for _, f := range fields {
			if f.omitZero && typeName(f.typ) != "k8s.io/apimachinery/pkg/apis/meta/v1.Time" {
				return nil, fmt.Errorf("%s.%s: omitzero is only supported on metav1.Time", typeName(t), f.name)
			}
			k, err := tt.kind(f.typ, typeName(t)+"."+f.name)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&body, "            GoField { name: %s, kind: %s, omit_empty: %t, omit_zero: %t },\n",
				rustString(f.name), k, f.omitEmpty, f.omitZero)
		}
		body.WriteString("        ],\n    },\n")
	}
	var specials []string
	for s := range tt.specials {
		specials = append(specials, s)
	}
	slices.Sort(specials)

	var out bytes.Buffer
	out.WriteString(`// generated by e2e/hashgen; do not edit
//
// The JSON view of the Go types Argo Rollouts ` + argoVersion + ` hashes: every struct reachable from
// k8s.io/api ` + k8sVersion + ` core/v1.PodTemplateSpec and from argo-rollouts ` + argoVersion + ` v1alpha1 []CanaryStep,
// its fields in Go order (embedded structs flattened as encoding/json does) with JSON name,
// omitempty/omitzero and kind. Regenerate with e2e/hashgen/check.sh -update.
//
// Types with custom JSON encoding met: ` + strings.Join(specials, ", ") + `.

use super::hash::GoKind::*;
use super::hash::{GoField, GoKind, GoStruct};

/// core/v1.PodTemplateSpec.
pub const POD_TEMPLATE_SPEC: GoKind = ` + podTemplate + `;

/// v1alpha1 []CanaryStep (spec.strategy.canary.steps).
pub const CANARY_STEPS: GoKind = ` + steps + `;

/// Struct types by index (GoKind::Struct(i)).
#[rustfmt::skip]
pub static STRUCTS: &[GoStruct] = &[
`)
	out.Write(body.Bytes())
	out.WriteString("];\n")
	return out.Bytes(), nil
}
