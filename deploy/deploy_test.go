// Package deploy_test checks the deployment files against the code: every
// YAML file parses, probes and ports name routes and addresses that the
// server has, and both compose stacks describe the same blue-green shape.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"github.com/rescuepc/licensing/internal/httpapi"
)

// root is the repository root, relative to this package's directory.
const root = ".."

// yamlFiles lists every YAML file of the deployment: Kubernetes manifests,
// compose files and workflows.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"deploy/k8s/*.yaml", "docker-compose.*.yml", ".github/workflows/*.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Fatalf("no file matches %s", pattern)
		}
		files = append(files, m...)
	}
	return files
}

// readDocs decodes every YAML document in path.
func readDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, doc)
	}
}

func TestYAMLFilesParse(t *testing.T) {
	for _, path := range yamlFiles(t) {
		if docs := readDocs(t, path); len(docs) == 0 {
			t.Errorf("%s: no YAML document", path)
		}
	}
}

// manifests returns the Kubernetes objects under deploy/k8s by kind.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	objects := map[string]map[string]any{}
	files, _ := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	for _, path := range files {
		for _, doc := range readDocs(t, path) {
			kind, _ := doc["kind"].(string)
			if kind == "" {
				t.Errorf("%s: a document without kind", path)
				continue
			}
			objects[kind] = doc
		}
	}
	return objects
}

// get walks a decoded YAML value along keys (map keys or list indexes) and
// fails the test when a step is missing.
func get(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch key := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok || m[key] == nil {
				t.Fatalf("missing %q in %v", key, keys)
			}
			v = m[key]
		case int:
			l, ok := v.([]any)
			if !ok || key >= len(l) {
				t.Fatalf("missing item %d in %v", key, keys)
			}
			v = l[key]
		}
	}
	return v
}

// routes returns the server's router, to check paths against.
func routes(t *testing.T) chi.Routes {
	t.Helper()
	h := httpapi.NewHandler(httpapi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("httpapi.NewHandler returns %T, not a chi router", h)
	}
	return r
}

// envValue returns the value of a container's env entry.
func envValue(t *testing.T, container any, name string) string {
	t.Helper()
	for _, e := range get(t, container, "env").([]any) {
		if get(t, e, "name") == name {
			return get(t, e, "value").(string)
		}
	}
	t.Fatalf("container env lacks %s", name)
	return ""
}

func TestDeploymentProbesMatchRoutes(t *testing.T) {
	dep := manifests(t)["Deployment"]
	container := get(t, dep, "spec", "template", "spec", "containers", 0)
	_, port, err := net.SplitHostPort(envValue(t, container, "HTTP_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]bool{}
	for _, p := range get(t, container, "ports").([]any) {
		ports[get(t, p, "name").(string)] = true
		if got := strconv.Itoa(get(t, p, "containerPort").(int)); got != port {
			t.Errorf("containerPort %s, but HTTP_ADDR listens on %s", got, port)
		}
	}

	r := routes(t)
	for probe, want := range map[string]string{"readinessProbe": "/api/health", "livenessProbe": "/api/health/live", "startupProbe": "/api/health/live"} {
		path := get(t, container, probe, "httpGet", "path").(string)
		if path != want {
			t.Errorf("%s path %s, want %s", probe, path, want)
		}
		if !r.Match(chi.NewRouteContext(), http.MethodGet, path) {
			t.Errorf("%s path %s is no GET route of the server", probe, path)
		}
		if p := get(t, container, probe, "httpGet", "port"); !ports[p.(string)] {
			t.Errorf("%s port %v is no declared container port", probe, p)
		}
	}
}

func TestDeploymentDrainsWithoutLoss(t *testing.T) {
	objects := manifests(t)
	dep := objects["Deployment"]
	container := get(t, dep, "spec", "template", "spec", "containers", 0)
	drain, err := time.ParseDuration(envValue(t, container, "DRAIN_DELAY"))
	if err != nil {
		t.Fatal(err)
	}
	shutdown, err := time.ParseDuration(envValue(t, container, "SHUTDOWN_TIMEOUT"))
	if err != nil {
		t.Fatal(err)
	}
	preStop := time.Duration(get(t, container, "lifecycle", "preStop", "sleep", "seconds").(int)) * time.Second
	if preStop != drain {
		t.Errorf("preStop sleep %v, want DRAIN_DELAY %v", preStop, drain)
	}
	grace := time.Duration(get(t, dep, "spec", "template", "spec", "terminationGracePeriodSeconds").(int)) * time.Second
	if grace < preStop+drain+shutdown {
		t.Errorf("terminationGracePeriodSeconds %v is below preStop + DRAIN_DELAY + SHUTDOWN_TIMEOUT = %v", grace, preStop+drain+shutdown)
	}
	if got := get(t, dep, "spec", "strategy", "rollingUpdate", "maxUnavailable"); got != 0 {
		t.Errorf("maxUnavailable %v, want 0", got)
	}

	labels := get(t, dep, "spec", "template", "metadata", "labels").(map[string]any)
	for key, value := range get(t, objects["PodDisruptionBudget"], "spec", "selector", "matchLabels").(map[string]any) {
		if labels[key] != value {
			t.Errorf("PodDisruptionBudget selects %s=%v, which the pods lack", key, value)
		}
	}
	if got := get(t, objects["HorizontalPodAutoscaler"], "spec", "scaleTargetRef", "name"); got != get(t, dep, "metadata", "name") {
		t.Errorf("HorizontalPodAutoscaler targets %v, not the Deployment", got)
	}
	if got := get(t, objects["Service"], "spec", "ports", 0, "targetPort"); got != "http" {
		t.Errorf("Service targetPort %v, want the container port http", got)
	}
	args := get(t, objects["Job"], "spec", "template", "spec", "containers", 0, "args").([]any)
	if len(args) != 2 || args[0] != "migrate" || args[1] != "up" {
		t.Errorf("migration Job args %v, want [migrate up]", args)
	}
}

func TestComposeStacks(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			doc := readDocs(t, filepath.Join(root, "docker-compose."+region+".yml"))[0]
			services := get(t, doc, "services").(map[string]any)
			for _, name := range []string{"blue", "green", "nginx", "pgbouncer", "redis"} {
				if services[name] == nil {
					t.Errorf("no %s service", name)
				}
			}
			for _, color := range []string{"blue", "green"} {
				checkColor(t, region, color, get(t, services, color))
			}
			checkMounts(t, get(t, services, "nginx"))
		})
	}
}

func TestComposeDatabases(t *testing.T) {
	us := get(t, readDocs(t, filepath.Join(root, "docker-compose.us-east-1.yml"))[0], "services").(map[string]any)
	eu := get(t, readDocs(t, filepath.Join(root, "docker-compose.eu-west-1.yml"))[0], "services").(map[string]any)
	if us["postgres"] == nil {
		t.Error("us-east-1 has no postgres primary")
	}
	if eu["postgres-replica"] == nil || eu["postgres"] != nil {
		t.Error("eu-west-1 must run a postgres-replica and no primary")
	}
	env := get(t, eu, "blue", "environment").(map[string]any)
	if !strings.Contains(env["DATABASE_READ_URL"].(string), "@pgbouncer-replica:") {
		t.Errorf("eu-west-1 DATABASE_READ_URL %q does not read through the replica's PgBouncer", env["DATABASE_READ_URL"])
	}
	if !strings.Contains(env["DATABASE_URL"].(string), "@pgbouncer:") {
		t.Errorf("eu-west-1 DATABASE_URL %q does not write through PgBouncer", env["DATABASE_URL"])
	}
	checkMounts(t, get(t, us, "postgres"))
	checkMounts(t, get(t, eu, "postgres-replica"))
}

// checkColor checks one app color: its region, the port that nginx's
// include file uses, and a stop grace period that covers the drain.
func checkColor(t *testing.T, region, color string, svc any) {
	t.Helper()
	env := get(t, svc, "environment").(map[string]any)
	if env["APP_REGION"] != region {
		t.Errorf("%s APP_REGION %v, want %s", color, env["APP_REGION"], region)
	}
	// scripts/deploy-lib.sh points nginx at blue:3000 and green:3000.
	if env["HTTP_ADDR"] != ":3000" {
		t.Errorf("%s HTTP_ADDR %v, want :3000", color, env["HTTP_ADDR"])
	}
	drain, err1 := time.ParseDuration(env["DRAIN_DELAY"].(string))
	shutdown, err2 := time.ParseDuration(env["SHUTDOWN_TIMEOUT"].(string))
	grace, err3 := time.ParseDuration(get(t, svc, "stop_grace_period").(string))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatalf("%s: %v", color, err)
	}
	if grace < drain+shutdown {
		t.Errorf("%s stop_grace_period %v is below DRAIN_DELAY + SHUTDOWN_TIMEOUT = %v", color, grace, drain+shutdown)
	}
	if !strings.Contains(get(t, svc, "image").(string), strings.ToUpper(color)+"_TAG") {
		t.Errorf("%s image %v does not take its tag from %s_TAG", color, get(t, svc, "image"), strings.ToUpper(color))
	}
}

// checkMounts checks that every bind mount of a service names a file or
// folder of this repository, except the generated nginx include folder.
func checkMounts(t *testing.T, svc any) {
	t.Helper()
	for _, v := range get(t, svc, "volumes").([]any) {
		src := strings.SplitN(v.(string), ":", 2)[0]
		if !strings.HasPrefix(src, "./") || src == "./deploy/nginx/active" {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, src)); err != nil {
			t.Errorf("bind mount %s: %v", src, err)
		}
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	checks := map[string]*regexp.Regexp{
		"a HEALTHCHECK that runs 'licensing healthcheck'": regexp.MustCompile(`HEALTHCHECK .*\n?.*CMD \["/usr/local/bin/licensing", "healthcheck"\]`),
		"EXPOSE 3000, the HTTP_ADDR port":                 regexp.MustCompile(`(?m)^EXPOSE 3000$`),
		"ENV HTTP_ADDR=:3000":                             regexp.MustCompile(`(?m)^ENV HTTP_ADDR=:3000$`),
		"a static build":                                  regexp.MustCompile(`CGO_ENABLED=0 go build`),
		"the version stamped from VERSION":                regexp.MustCompile(`-X main\.version=\$\{VERSION\}`),
		"a non-root distroless runtime":                   regexp.MustCompile(`(?m)^FROM gcr\.io/distroless/static[^ ]*:nonroot$`),
	}
	for what, re := range checks {
		if !re.MatchString(text) {
			t.Errorf("Dockerfile lacks %s", what)
		}
	}
}
