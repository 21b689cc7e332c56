# rollcall: the two commands a fresh Debian 12 machine needs are `make run` and `make test`; every
# other target is a step of those, or a tool for developers.
SHELL := bash
SWIFT ?= swift
BIN := .build/release/rollcall
FIXTURES ?= $(CURDIR)/../shared/fixtures
export ROLLCALL_MODELS ?= $(CURDIR)/Models
export ROLLCALL_FIXTURES ?= $(FIXTURES)

.PHONY: run test deps models build lint bench chaos compare install clean

## run: set up everything, encode the fixture faces and summarise who is who, then play the door:
## the scenario video (generated from the fixtures) through the whole pipeline, decisions as they come
run: models build
	@echo "rollcall encode on $(FIXTURES)/faces:"
	@$(BIN) encode $(FIXTURES)/faces/* | python3 tools/summarize-encodings.py
	@echo
	@echo "rollcall replay of the scenario video (tools/scenario.sh):"
	@tools/scenario.sh

## test: set up everything, lint, then run the whole test suite. The camera tests against the real
## vivid driver run on their own afterwards: QEMU emulates a whole machine, and sharing the two
## cores with the rest of the suite would starve it.
test: models lint
	$(SWIFT) test --disable-xctest --skip VividCameraTests
	$(SWIFT) test --disable-xctest --filter VividCameraTests

## deps: the Debian packages (idempotent)
deps:
	@tools/install-deps.sh

## models: the dlib models, fetched and verified into Models/ (idempotent)
models: deps
	@Models/fetch-models.sh

build: deps
	$(SWIFT) build -c release --product rollcall
	$(SWIFT) build -c release --product rollcall-scenario
	$(SWIFT) build -c release --product rollcall-hub

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

## bench: speed of the vision core, frame conversion, matching and the whole pipeline on this machine
## (see README, Performance)
bench: models build
	$(BIN) bench vision --runs 100
	$(BIN) bench capture
	for n in 1000 10000 100000; do $(BIN) bench match --templates $$n; done
	tools/scenario.sh .build/scenario --json | tail -n 1
	$(BIN) bench outbox --events 2000 --dir .build
	python3 tools/chaos.py bench --events 10000

## chaos: SIGKILL the device's sync KILLS times at random moments against a real hub on loopback; the
## last line must read committed=C delivered=C duplicates=0 lost=0 invented=0
KILLS ?= 20
chaos: build
	python3 tools/chaos.py chaos --kills $(KILLS)

## compare: our results against the reference implementation on the fixtures and on derived images
compare: models build
	tools/reference/compare-all.sh $(BIN)

## install: the binary into $(PREFIX)/bin, the models into /usr/share/rollcall/models, the udev rule
PREFIX ?= /usr/local
install: models build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/rollcall
	Models/fetch-models.sh --dest $(DESTDIR)/usr/share/rollcall/models
	install -D -m 0644 udev/99-rollcall-camera.rules $(DESTDIR)/etc/udev/rules.d/99-rollcall-camera.rules
	-[ -z "$(DESTDIR)" ] && udevadm control --reload && udevadm trigger --subsystem-match=video4linux

clean:
	rm -rf .build
