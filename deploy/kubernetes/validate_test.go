package kubernetes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yannh/kubeconform/pkg/validator"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The kustomizations that must render and validate, and the plain files
// (templates not in any kustomization) that must validate too.
var (
	kustomizations = []string{"base", "overlays/example"}
	plainFiles     = []string{"overlays/example/secret.example.yaml"}
)

// schemaCache is where the schemas are kept between runs: the repository's
// .cache/ (git-ignored), or ONBOARD_SCHEMA_CACHE.
func schemaCache(t *testing.T) string {
	if d := os.Getenv("ONBOARD_SCHEMA_CACHE"); d != "" {
		return d
	}
	abs, err := filepath.Abs("../../.cache/kubernetes-json-schema")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	dir, err := Schemas(ctx, schemaCache(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("schemas for Kubernetes %s ready in %s", KubernetesVersion, time.Since(start).Round(time.Millisecond))
	v, err := validator.New([]string{SchemaLocation(dir)}, validator.Opts{
		Strict:            true, // unknown fields and duplicate keys are errors
		KubernetesVersion: KubernetesVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// render builds a kustomization as `kubectl kustomize` does.
func render(t *testing.T, dir string) []byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	b, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validate returns one line per resource that is not valid.
func validate(v validator.Validator, name string, manifests []byte) (valid int, problems []string) {
	for _, r := range v.Validate(name, io.NopCloser(bytes.NewReader(manifests))) {
		sig, _ := r.Resource.Signature()
		id := name
		if sig != nil {
			id = fmt.Sprintf("%s %s/%s", name, sig.Kind, sig.Name)
		}
		switch r.Status {
		case validator.Valid:
			valid++
		case validator.Empty:
		default:
			msg := fmt.Sprint(r.Err)
			for _, e := range r.ValidationErrors {
				msg += fmt.Sprintf("\n    %s: %s", e.Path, e.Msg)
			}
			problems = append(problems, id+": "+msg)
		}
	}
	return valid, problems
}

// TestManifestsValidate renders the base and every overlay and checks each
// resource against the Kubernetes API's schemas, strictly: a field the API
// does not have, a wrong type or a missing required field fails `make test`.
func TestManifestsValidate(t *testing.T) {
	v := newValidator(t)
	for _, dir := range kustomizations {
		valid, problems := validate(v, dir, render(t, dir))
		for _, p := range problems {
			t.Error(p)
		}
		if valid == 0 {
			t.Errorf("%s: no resources validated", dir)
		}
		t.Logf("%s: %d resources valid", dir, valid)
	}
	for _, f := range plainFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		valid, problems := validate(v, f, b)
		for _, p := range problems {
			t.Error(p)
		}
		if valid != 1 {
			t.Errorf("%s: %d resources valid, want 1", f, valid)
		}
	}
}

// TestBrokenManifestsAreRefused shows the validation can fail: each resource
// in testdata/broken has one mistake (an unknown field, a wrong type, a
// missing required field) and must be refused.
func TestBrokenManifestsAreRefused(t *testing.T) {
	v := newValidator(t)
	b := render(t, "testdata/broken")
	results := v.Validate("testdata/broken", io.NopCloser(bytes.NewReader(b)))
	if len(results) < 4 {
		t.Fatalf("%d resources in testdata/broken, want at least 4", len(results))
	}
	// What each refusal must name.
	why := map[string]string{
		"unknown-field":     "'livenessProbes' not allowed",
		"wrong-type":        "/spec/ports/0/port",
		"missing-required":  "missing property 'name'",
		"misplaced-field":   "'minAvailable' not allowed",
		"misspelt-security": "'readOnlyRootFS' not allowed",
	}
	for _, r := range results {
		sig, _ := r.Resource.Signature()
		msg := fmt.Sprint(r.Err)
		if r.Status != validator.Invalid {
			t.Errorf("%s/%s: status %d, want invalid (err %v)", sig.Kind, sig.Name, r.Status, r.Err)
			continue
		}
		if w, ok := why[sig.Name]; !ok || !strings.Contains(msg, w) {
			t.Errorf("%s/%s refused, but not for %q: %s", sig.Kind, sig.Name, w, msg)
			continue
		}
		t.Logf("%s/%s refused: %s", sig.Kind, sig.Name, why[sig.Name])
	}
	if len(results) != len(why) {
		t.Errorf("%d results, want %d", len(results), len(why))
	}
}

// obj is a rendered resource, navigated by keys.
type obj map[string]any

func (o obj) get(path ...any) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func (o obj) str(path ...any) string { s, _ := o.get(path...).(string); return s }

func (o obj) num(path ...any) int {
	switch n := o.get(path...).(type) {
	case float64:
		return int(n)
	case int64:
		return int(n)
	case int:
		return n
	}
	return -1
}

func objects(t *testing.T, manifests []byte) map[string]obj {
	t.Helper()
	out := map[string]obj{}
	for _, doc := range strings.Split(string(manifests), "\n---\n") {
		var o obj
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatal(err)
		}
		if len(o) > 0 {
			out[o.str("kind")+"/"+o.str("metadata", "name")] = o
		}
	}
	return out
}

// TestManifestsFitTheService checks what the schemas cannot: that the
// manifests agree with the service and the image (port, probes, user,
// shutdown) and keep to the hardening the issue asks for.
func TestManifestsFitTheService(t *testing.T) {
	objs := objects(t, render(t, "overlays/example"))
	dep, ok := objs["Deployment/onboard"]
	if !ok {
		t.Fatalf("no Deployment/onboard in %v", slices.Collect(maps.Keys(objs)))
	}
	job, ok := objs["Job/onboard-migrate"]
	if !ok {
		t.Fatal("no Job/onboard-migrate")
	}
	if dep.num("spec", "replicas") < 2 {
		t.Errorf("replicas %d, want at least 2", dep.num("spec", "replicas"))
	}
	pod := dep.get("spec", "template", "spec").(map[string]any)
	c := obj(pod).get("containers", 0).(map[string]any)
	co := obj(c)
	if got := co.str("image"); got != "registry.example.com/onboard:0.1.0" {
		t.Errorf("image %q: the overlay's images: did not apply", got)
	}
	if co.num("ports", 0, "containerPort") != 8080 || co.str("ports", 0, "name") != "http" {
		t.Errorf("port %v, want http 8080 (the image's ONBOARD_ADDR)", co.get("ports"))
	}
	if co.str("readinessProbe", "httpGet", "path") != "/readyz" || co.str("livenessProbe", "httpGet", "path") != "/healthz" ||
		co.str("startupProbe", "httpGet", "path") != "/readyz" {
		t.Error("probes: readiness and startup on /readyz, liveness on /healthz")
	}
	// Grace: a preStop sleep if any, then the service's 30 s shutdown
	// budget (its drain included), and a margin.
	sleep := max(co.num("lifecycle", "preStop", "sleep", "seconds"), 0)
	grace := obj(pod).num("terminationGracePeriodSeconds")
	if grace < sleep+30+5 {
		t.Errorf("preStop sleep %d s, grace %d s: the grace must cover the sleep, the 30 s shutdown and a margin", sleep, grace)
	}
	if co.get("lifecycle", "preStop", "exec") != nil {
		t.Error("a preStop exec needs a shell or a program the image does not have")
	}
	for _, x := range []struct {
		name string
		pod  obj
	}{{"Deployment", obj(pod)}, {"Job", obj(job.get("spec", "template", "spec").(map[string]any))}} {
		p := x.pod
		if p.get("securityContext", "runAsNonRoot") != true || p.num("securityContext", "runAsUser") != 65532 ||
			p.str("securityContext", "seccompProfile", "type") != "RuntimeDefault" || p.get("automountServiceAccountToken") != false {
			t.Errorf("%s: pod securityContext %v", x.name, p.get("securityContext"))
		}
		sc := obj(p.get("containers", 0).(map[string]any))
		if sc.get("securityContext", "readOnlyRootFilesystem") != true || sc.get("securityContext", "allowPrivilegeEscalation") != false ||
			fmt.Sprint(sc.get("securityContext", "capabilities", "drop")) != "[ALL]" {
			t.Errorf("%s: container securityContext %v", x.name, sc.get("securityContext"))
		}
		if cmName, _ := generated(objs, "ConfigMap", "onboard-config-"); cmName == "" || sc.str("envFrom", 0, "configMapRef", "name") != cmName {
			t.Errorf("%s: envFrom %v is not the generated ConfigMap", x.name, sc.get("envFrom"))
		}
		if sc.get("resources", "limits", "memory") == nil || sc.get("resources", "requests", "cpu") == nil {
			t.Errorf("%s: resources %v", x.name, sc.get("resources"))
		}
	}
	if got := fmt.Sprint(job.get("spec", "template", "spec", "containers", 0, "args")); got != "[migrate]" {
		t.Errorf("Job args %s, want [migrate]", got)
	}
	if pdb := objs["PodDisruptionBudget/onboard"]; pdb.num("spec", "minAvailable") != 1 {
		t.Errorf("PodDisruptionBudget minAvailable %v", pdb.get("spec", "minAvailable"))
	}
	if hpa := objs["HorizontalPodAutoscaler/onboard"]; hpa.str("spec", "scaleTargetRef", "name") != "onboard" || hpa.num("spec", "minReplicas") < 2 {
		t.Errorf("HorizontalPodAutoscaler %v", hpa.get("spec"))
	}
	np := objs["NetworkPolicy/onboard"]
	if fmt.Sprint(np.get("spec", "ingress", 0, "ports")) != "[map[port:8080 protocol:TCP]]" {
		t.Errorf("NetworkPolicy ingress %v, want only TCP 8080", np.get("spec", "ingress"))
	}
	if sa := objs["ServiceAccount/onboard"]; sa.get("automountServiceAccountToken") != false {
		t.Error("ServiceAccount mounts a token")
	}
	_, cm := generated(objs, "ConfigMap", "onboard-config-")
	for k, want := range map[string]string{"ONBOARD_ADDR": ":8080", "ONBOARD_ALTINN_ENV": "tt02",
		"DATABASE_URL_FILE": "/run/secrets/onboard/database-url"} {
		if got := cm.str("data", k); got != want {
			t.Errorf("ConfigMap %s = %q, want %q", k, got, want)
		}
	}
	for k := range cm.get("data").(map[string]any) {
		if !strings.HasSuffix(k, "_FILE") && (strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") ||
			strings.Contains(k, "TOKEN") || strings.HasSuffix(k, "_KEY") || k == "DATABASE_URL") {
			t.Errorf("ConfigMap holds %s: secrets belong in the Secret", k)
		}
	}
}

// generated finds the resource of kind whose name is prefix plus
// kustomize's content hash.
func generated(objs map[string]obj, kind, prefix string) (string, obj) {
	for k, o := range objs {
		if strings.HasPrefix(k, kind+"/"+prefix) {
			return strings.TrimPrefix(k, kind+"/"), o
		}
	}
	return "", nil
}
