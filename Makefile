# Parley. `make run` builds the web app and the server and starts it on
# http://127.0.0.1:8080 with SQLite in ./parley-data; `make test` runs every
# test (Go, web unit, browser).

GO        ?= go
NPM       ?= npm
BIN       := bin/parley
WEB_STAMP := web/dist/app/index.html
WEB_SRC   := $(shell find web/src web/public web/index.html web/package.json web/vite.config.ts -type f 2>/dev/null)

# staticcheck, pinned, installed from the Go module proxy into bin/tools.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

.PHONY: run build web web-deps browser-deps test test-go test-web test-e2e vet fmt bench clean dist dist-bin docker

run: build
	./$(BIN) serve

# The version stamped into binaries (parley version, /api/v1/features):
# the git tag, or commit, with -dirty for uncommitted changes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

build: web
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/parley

# Release builds: static binaries (CGO_ENABLED=0; SQLite is pure Go) with
# the web app embedded, one per target, and their SHA-256 sums, in
# $(DIST_DIR). `make dist DIST_TARGETS=linux/amd64` builds one.
DIST_DIR     ?= bin/dist
DIST_TARGETS ?= linux/amd64 linux/arm64 darwin/arm64 windows/amd64

dist: web
	$(MAKE) dist-bin

# The container image (Dockerfile: distroless, non-root, data in /data).
docker:
	docker build --build-arg VERSION=$(VERSION) -t parley:$(VERSION) .

# dist without building the web app first (it embeds what web/dist holds).
dist-bin:
	@mkdir -p $(DIST_DIR)
	@set -e; for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		out=$(DIST_DIR)/parley-$(VERSION)-$$os-$$arch$$ext; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$out ./cmd/parley; \
	done
	@cd $(DIST_DIR) && rm -f SHA256SUMS && \
		if command -v sha256sum >/dev/null; then sha256sum parley-$(VERSION)-* > SHA256SUMS; \
		else shasum -a 256 parley-$(VERSION)-* > SHA256SUMS; fi
	@echo "$(DIST_DIR)/SHA256SUMS:"; cat $(DIST_DIR)/SHA256SUMS

web: $(WEB_STAMP)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

web-deps: web/node_modules/.package-lock.json

$(WEB_STAMP): web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && $(NPM) run build

# All tests: Go (with the race detector), web unit tests, browser tests.
test: vet test-go test-web test-e2e

vet: $(STATICCHECK)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

test-go: web
	$(GO) test -race -count=1 -timeout 20m ./...

test-web: web-deps
	cd web && $(NPM) test

test-e2e: build browser-deps
	cd web && PARLEY_BIN=$(CURDIR)/$(BIN) $(NPM) run test:e2e

# What the browser tests need from Debian: Chromium, a colour emoji font
# and a CJK font so screenshots show emoji and Chinese, Japanese or Korean
# text (installed when missing; needs root). Latin text keeps DejaVu Sans
# with or without the CJK font: it is used only for the characters DejaVu
# lacks.
BROWSER_PKGS := chromium fonts-noto-color-emoji fonts-noto-cjk
browser-deps:
	@missing=$$(for p in $(BROWSER_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing for the browser tests:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./sqlite ./postgres ./hub ./ws ./service ./media

clean:
	rm -rf bin web/dist/app
