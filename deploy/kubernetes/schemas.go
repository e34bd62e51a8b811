// Package kubernetes holds the Kustomize manifests under this folder and
// validates them offline: the rendered base and overlays are checked with
// kubeconform against JSON schemas made here from the Kubernetes API's own
// OpenAPI document, fetched as part of the k8s.io/kubernetes module through
// the Go module proxy (GitHub, where kubeconform's schemas live, need not be
// reachable).
package kubernetes

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The Kubernetes version the manifests are validated against, and the
// module whose zip carries its api/openapi-spec/swagger.json. (The kinds and
// fields the manifests use are all in 1.23 and later.) ModuleSum pins the
// zip (go.sum's h1: form), so a changed download is refused.
const (
	KubernetesVersion = "1.34.4"
	Module            = "k8s.io/kubernetes"
	ModuleSum         = "h1:Yy6R4QB8C9kJPp25GFqEvX5XQwY5qzKeqD0Xx6oAcmk="
)

// SchemaLocation is kubeconform's -schema-location for a folder made by
// Schemas: kubeconform's own layout (that of yannh/kubernetes-json-schema).
func SchemaLocation(dir string) string {
	return filepath.Join(dir, "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}", "{{ .ResourceKind }}{{ .KindSuffix }}.json")
}

// Schemas makes, once, the strict standalone JSON schema of every kind in
// the Kubernetes API under dir/v<version>-standalone-strict/ and returns
// dir. A folder already complete is used as it is (a warm run reads nothing
// else); otherwise the module is fetched with `go mod download` (about
// 18 MB into the module cache) and converted.
func Schemas(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "v"+KubernetesVersion+"-standalone-strict")
	stamp := filepath.Join(out, ".complete")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == ModuleSum {
		return dir, nil
	}
	spec, err := swagger(ctx)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, ".schemas-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := convert(spec, tmp); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(ModuleSum), 0o644); err != nil {
		return "", err
	}
	// Replace atomically; another run that got there first is as good.
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		if b, err2 := os.ReadFile(stamp); err2 == nil && string(b) == ModuleSum {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// swagger returns api/openapi-spec/swagger.json from the pinned module's zip.
func swagger(ctx context.Context) ([]byte, error) {
	mod := Module + "@v" + KubernetesVersion
	cmd := exec.CommandContext(ctx, goCmd(), "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir() // outside any module: nothing of ours is touched
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	js, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %w: %s", mod, err, stderr.String())
	}
	var info struct{ Zip, Sum, Error string }
	if err := json.Unmarshal(js, &info); err != nil {
		return nil, fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if info.Error != "" {
		return nil, fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	if info.Sum != ModuleSum {
		return nil, fmt.Errorf("%s: sum %s, want %s", mod, info.Sum, ModuleSum)
	}
	zr, err := zip.OpenReader(info.Zip)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	f, err := zr.Open(mod + "/api/openapi-spec/swagger.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.Zip, err)
	}
	defer f.Close()
	return io.ReadAll(f)
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// convert writes one file per kind (per x-kubernetes-group-version-kind),
// named as kubeconform looks for it: deployment-apps-v1.json, service-v1.json,
// horizontalpodautoscaler-autoscaling-v2.json. Each file is standalone: the
// kind's definition with the definitions it refers to (and only those) under
// "definitions", so recursion needs no inlining. As openapi2jsonschema does
// for kubernetes-json-schema's strict flavour, every object with properties
// refuses others (additionalProperties: false, what kubectl's validation and
// the API server's strict field validation do), int-or-string and quantities
// take a string or a number, and apiVersion and kind must be the kind's own.
func convert(spec []byte, dir string) error {
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return fmt.Errorf("swagger.json: %w", err)
	}
	defs := doc.Definitions
	if len(defs) < 100 {
		return fmt.Errorf("swagger.json has only %d definitions", len(defs))
	}
	for name, d := range defs {
		defs[name] = strictify(d).(map[string]any)
	}
	// Quantity is a string in the document but a number is accepted too
	// (cpu: 1); IntOrString says so by its format, handled in strictify.
	if _, ok := defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]; ok {
		defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] = map[string]any{
			"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	}
	written := 0
	for _, d := range defs {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if kind == "" || version == "" {
				continue
			}
			apiVersion, file := version, strings.ToLower(kind)
			if group != "" {
				apiVersion = group + "/" + version
				file += "-" + strings.ToLower(strings.Split(group, ".")[0])
			}
			file += "-" + strings.ToLower(version) + ".json"
			// Two groups may share a first label (x.k8s.io and x.io); the
			// first one written keeps the name, as kubeconform can tell no
			// difference.
			path := filepath.Join(dir, file)
			if _, err := os.Stat(path); err == nil {
				continue
			}
			root := copyMap(d)
			props, _ := root["properties"].(map[string]any)
			if props != nil {
				props = copyMap(props)
				root["properties"] = props
				props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
				props["kind"] = map[string]any{"type": "string", "enum": []any{kind}}
			}
			root["$schema"] = "http://json-schema.org/draft-04/schema#"
			closure := map[string]any{}
			refs(root, defs, closure)
			if len(closure) > 0 {
				root["definitions"] = closure
			}
			b, err := json.Marshal(root)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			written++
		}
	}
	if written < 50 {
		return fmt.Errorf("only %d kinds in swagger.json", written)
	}
	return nil
}

// strictify returns v with descriptions dropped (they are most of the
// bytes), additionalProperties: false on objects with properties, and
// int-or-string formats as a oneOf.
func strictify(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if f, _ := x["format"].(string); f == "int-or-string" {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			switch k {
			case "description":
				continue
			case "properties":
				// Property names are not keywords: only their values are schemas.
				props := map[string]any{}
				for pk, pv := range val.(map[string]any) {
					props[pk] = strictify(pv)
				}
				out[k] = props
				continue
			}
			out[k] = strictify(val)
		}
		if _, ok := x["properties"]; ok {
			if _, set := x["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = strictify(e)
		}
		return out
	default:
		return v
	}
}

// refs adds to closure every definition v refers to, transitively.
func refs(v any, defs map[string]map[string]any, closure map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			name := strings.TrimPrefix(r, "#/definitions/")
			if _, seen := closure[name]; !seen {
				if d, ok := defs[name]; ok {
					closure[name] = d
					refs(d, defs, closure)
				}
			}
		}
		for k, e := range x {
			if k == "definitions" {
				continue
			}
			refs(e, defs, closure)
		}
	case []any:
		for _, e := range x {
			refs(e, defs, closure)
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
