# onboard: `make run` starts the service against the built-in simulator with a
# private Postgres; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
# The toolchain go.mod names (go1.26.10, with the standard library's security
# fixes), fetched once from the Go module proxy even where the installed Go
# is older and pinned with GOTOOLCHAIN=local.
export GOTOOLCHAIN ?= auto
export ONBOARD_DATA_DIR ?= $(CURDIR)/.data

# DATABASE_URL from the environment wins; otherwise the private cluster.
# (An assignment, not `export x=$(…)`, so a Postgres that fails to start stops make.)
DB = DATABASE_URL="$${DATABASE_URL:-$$(scripts/devdb.sh start)}"; export DATABASE_URL;

.DEFAULT_GOAL := help
.PHONY: staff-add doctor help run test test-short generate check-generated vendor-css lint bench migrate build db-start db-stop psql clean image deploy-check

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## start Postgres if needed, apply migrations, serve the wizard with the simulator on http://localhost:8080
	@$(DB) $(GO) run ./cmd/onboard serve

test: check-generated lint deploy-check ## every test: unit, Postgres integration, whole-app and browser (installs Postgres, chromium and axe-core if missing)
	@$(DB) export CHROMIUM="$${CHROMIUM:-$$(scripts/chromium.sh)}"; \
		export AXE_JS="$${AXE_JS:-$$(scripts/axe.sh)}"; \
		$(GO) test -race -count=1 -timeout 30m ./...

test-short: ## the tests without the browser
	@$(DB) $(GO) test -count=1 -short ./...

generate: ## regenerate the templ views
	$(GO) tool templ generate -path views

check-generated: ## fail when a *_templ.go file is stale
	@scripts/check-generated.sh

vendor-css: ## fetch Designsystemet's CSS and Altinn theme (pinned, npm pack) into static/designsystemet/; commit the result
	@scripts/designsystemet.sh

# Linters at pinned versions, run with `go run` (nothing to install; the module
# proxy serves them). staticcheck's 2025.1-style tags are not module versions:
# use its v0.x version. The vulnerability database is built from the pinned
# golang.org/x/vulndb module by scripts/vulndb.sh (no vuln.go.dev needed).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0

lint: ## gofmt, go vet, staticcheck and govulncheck (pinned, run with go run)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) vet ./...
	@$(GO) run $(STATICCHECK) ./...
	@GO=$(GO) scripts/govulncheck.sh $(GOVULNCHECK)

bench: ## benchmarks: Go benchmarks, the million-row dashboard list, the wizard under load, reconciliation, the token cache, campaigns, an accountant's 1,000 clients (see bench/README.md)
	@$(DB) $(GO) test -run '^$$' -bench . -benchmem $$(grep -rl --include='*_test.go' '^func Benchmark' --exclude-dir=deploy --exclude-dir=.cache --exclude-dir=.data --exclude-dir=.pgdata --exclude-dir=.git . | xargs -n1 dirname | sort -u) && $(GO) run ./bench/list && \
		$(GO) run ./bench/wizard && $(GO) run ./bench/reconcile && $(GO) run ./bench/tokens && \
		$(GO) run ./bench/campaign && $(GO) run ./bench/clients

doctor: ## check the set-up (key, scopes, clock, system register, URLs) against `make run`'s simulator, with the fixes
	@$(DB) $(GO) run ./cmd/onboard doctor

staff-add: ## add a dashboard account: make staff-add EMAIL=you@example.com ROLE=admin (password on stdin)
	@test -n "$(EMAIL)" || { echo "usage: make staff-add EMAIL=you@example.com ROLE=admin"; exit 2; }
	@$(DB) $(GO) run ./cmd/onboard staff add "$(EMAIL)" --role "$${ROLE:-admin}"

migrate: ## apply database migrations
	@$(DB) $(GO) run ./cmd/onboard migrate

# The container image and the Kubernetes manifests live in deploy/, a Go
# module of its own: go-containerregistry, kustomize and kubeconform (pinned
# in deploy/go.mod) never change the versions the service is built with.
IMAGE_TAR ?= dist/onboard-image.tar
IMAGE_TAG ?= onboard:dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_ARCH ?= amd64
# The org.opencontainers.image.licenses label (an SPDX expression); none until
# the repository has a licence.
LICENSES ?=

image: ## build the container image without Docker into dist/onboard-image.tar, tagged onboard:dev (docker load -i, crane push)
	@cd deploy && SOURCE_DATE_EPOCH="$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 0)}" \
		$(GO) run ./image -src $(CURDIR) -o $(abspath $(IMAGE_TAR)) -tag $(IMAGE_TAG) -ca $(CA_BUNDLE) \
		-arch $(IMAGE_ARCH) -version $(VERSION) -revision "$$(git rev-parse HEAD 2>/dev/null || true)" -licenses "$(LICENSES)"

deploy-check: ## deploy/: vet, staticcheck, the image test (builds it, reads it back, runs it read-only as 65532 on Postgres) and the Kubernetes manifests rendered and validated offline, strictly
	@$(DB) cd deploy && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./... && $(GO) test -count=1 ./...

build: ## build bin/onboard
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/onboard ./cmd/onboard

db-start: ## start the private Postgres and print its URL
	@scripts/devdb.sh start

db-stop: ## stop the private Postgres
	@scripts/devdb.sh stop

psql: ## psql on the dev database
	@scripts/devdb.sh psql

clean: ## stop Postgres and remove local state (.pgdata, .data, bin, dist)
	-@scripts/devdb.sh stop
	rm -rf .pgdata .data bin dist
