# Redial — every command a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

RUN        := $(CURDIR)/.run
REDIS_PORT ?= 16379
PG_PORT    ?= 15432
# The operations stack `make services` starts beside them (OPS=0: not): Prometheus, Alertmanager
# and a SIP trunk answering OPTIONS (SIPp), all on loopback, configs and data under .run/.
OPS        ?= 1
PROMETHEUS_PORT   ?= $(or $(REDIAL_PROMETHEUS_PORT),9090)
ALERTMANAGER_PORT ?= $(or $(REDIAL_ALERTMANAGER_PORT),9093)
SIP_TRUNK_PORT    ?= 5060
WATCHDOG_PORT     ?= $(or $(REDIAL_WATCHDOG_PORT),9102)
PG_USER    := redial
PG_DB      := redial
# Swift's toolchain may not be on a fresh shell's PATH.
export PATH := $(PATH):/opt/swift/usr/bin
PG_BIN     := $(firstword $(wildcard /usr/lib/postgresql/*/bin))
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)

APT_PACKAGES := redis-server redis-tools libhiredis-dev postgresql libpq-dev \
                libcurl4-openssl-dev libssl-dev curl chromium chromium-driver python3-selenium \
                sip-tester prometheus prometheus-alertmanager stunnel4 openssl wrk

export REDIAL_REDIS_URL    ?= redis://127.0.0.1:$(REDIS_PORT)/0
export REDIAL_DATABASE_URL ?= postgres://$(PG_USER)@127.0.0.1:$(PG_PORT)/$(PG_DB)

.PHONY: help deps build services services-sentinel services-cluster bench-replication bench-cluster ops services-running stop test run migrate bench bench-intake chaos pg-restart check-alerting fuzz fuzz-build fuzz-run fuzz-smoke

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: ## install missing system packages with apt (quiet when nothing is missing)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done)
	if [ -n "$$missing" ]; then
	  echo "installing:" $$missing
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=300 update -qq
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=300 install -y -qq $$missing >/dev/null
	fi
	# The SMTP server the tests send mail to, the S3-compatible server recordings go to, and
	# Schemathesis, which tests the API against its OpenAPI document (PyPI).
	python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check aiosmtpd
	python3 -c 'import moto.server, flask_cors' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check 'moto[server]'
	python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check 'schemathesis==4.32.5'

build: deps ## build the redial binary (debug)
	swift build

# The shipped Redis configuration, one flag per line so each trade-off is visible:
#   appendonly yes + appendfsync always  an acknowledged enqueue survives kill -9 of Redis;
#                                        the cost is measured by `make bench`, not guessed.
#   maxmemory-policy noeviction          Redis refuses writes when full instead of silently
#                                        evicting jobs; workers check this at start-up.
#   save ""                              the AOF is the durable copy; RDB snapshots add only forks.
#   auto-aof-rewrite-min-size 256mb      a rewrite forks a child that competes for the cores:
#                                        Redis's 64 MB made one every 2.3 s at 34,000 jobs/s and
#                                        doubled p99 latency; the cost is up to ~2 s of AOF replay
#                                        when Redis restarts (docs/performance.md).
# LISTEN_EXTRA: one more address to listen on besides loopback, and TRUST_NET the clients allowed
# from there (the chaos suite's network-namespaced worker reaches the services over a veth pair).
LISTEN_EXTRA ?=
TRUST_NET ?=
comma := ,
PG_LISTEN := 127.0.0.1$(if $(LISTEN_EXTRA),$(comma)$(LISTEN_EXTRA))
# Protected mode refuses every non-loopback client without a password; the extra address is a
# host-only veth link, so it is switched off only when there is one.
REDIS_SHIPPED := --bind 127.0.0.1 $(LISTEN_EXTRA) --protected-mode $(if $(LISTEN_EXTRA),no,yes) --daemonize yes \
  --appendonly yes --appendfsync always --maxmemory-policy noeviction --save "" --auto-aof-rewrite-min-size 256mb
REDIS_FLAGS := $(REDIS_SHIPPED) --port $(REDIS_PORT) \
  --pidfile $(RUN)/redis.pid --dir $(RUN)/redis --logfile $(RUN)/redis.log

services: deps ## start the local Redis, PostgreSQL and operations stack under .run/ (reuses running ones)
	@mkdir -p $(RUN)/redis
	if [ -f $(RUN)/redis.pid ] && kill -0 $$(cat $(RUN)/redis.pid) 2>/dev/null; then
	  echo "redis: already running (pid $$(cat $(RUN)/redis.pid), port $(REDIS_PORT))"
	else
	  redis-server $(REDIS_FLAGS)
	  for i in $$(seq 100); do redis-cli -p $(REDIS_PORT) ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	  redis-cli -p $(REDIS_PORT) ping | grep -q PONG || { echo "redis did not start; see $(RUN)/redis.log"; exit 1; }
	  echo "redis: started (pid $$(cat $(RUN)/redis.pid), port $(REDIS_PORT))"
	fi
	# PostgreSQL refuses to run as root: as root, run it as the `postgres` user, with a data
	# directory that user can reach (a clone under a 0700 directory cannot be traversed).
	pgdata=$(RUN)/pg; as=()
	if [ "$$(id -u)" = 0 ]; then
	  as=(runuser -u postgres -- env -C /)
	  chmod 755 $(RUN)
	  if ! "$${as[@]}" test -x $(RUN); then pgdata=/var/tmp/redial-pg-$$(echo -n $(RUN) | md5sum | cut -c1-12); fi
	fi
	echo "$$pgdata" > $(RUN)/pgdata
	if [ -f $$pgdata/postmaster.pid ] && "$${as[@]}" $(PG_BIN)/pg_ctl -D $$pgdata status >/dev/null 2>&1; then
	  echo "postgres: already running (port $(PG_PORT))"
	else
	  if [ ! -f $$pgdata/PG_VERSION ]; then
	    rm -rf $$pgdata; install -d -m 700 $${as:+-o postgres} $$pgdata
	    "$${as[@]}" $(PG_BIN)/initdb -D $$pgdata -U $(PG_USER) --auth=trust -E UTF8 --no-locale >$(RUN)/initdb.log
	  fi
	  if [ -n "$(TRUST_NET)" ] && ! "$${as[@]}" grep -q "$(TRUST_NET)" $$pgdata/pg_hba.conf; then
	    echo "host all all $(TRUST_NET) trust" | "$${as[@]}" tee -a $$pgdata/pg_hba.conf >/dev/null
	  fi
	  "$${as[@]}" $(PG_BIN)/pg_ctl -D $$pgdata -l $$pgdata/server.log -w -t 60 start \
	    -o "-p $(PG_PORT) -c listen_addresses=$(PG_LISTEN) -c unix_socket_directories='' -c fsync=$${PG_FSYNC:-on}" >/dev/null \
	    || { echo "postgres did not start; see $$pgdata/server.log"; exit 1; }
	  echo "postgres: started (port $(PG_PORT), data $$pgdata)"
	fi
	psql -h 127.0.0.1 -p $(PG_PORT) -U $(PG_USER) -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(PG_DB)'" | grep -q 1 \
	  || psql -h 127.0.0.1 -p $(PG_PORT) -U $(PG_USER) -d postgres -qc 'CREATE DATABASE $(PG_DB)'
	[ "$(OPS)" = 1 ] && $(MAKE) --no-print-directory ops || true

# Started as plain processes, each with a pid file; a second call starts only what is not running.
ops: deps
	@mkdir -p $(RUN)/prometheus $(RUN)/alertmanager
	running() { [ -f $(RUN)/$$1.pid ] && kill -0 $$(cat $(RUN)/$$1.pid) 2>/dev/null; }
	if running sip-trunk; then echo "sip trunk: already running (udp 127.0.0.1:$(SIP_TRUNK_PORT))"; else
	  setsid sipp -sf deploy/sipp/options-trunk.xml -i 127.0.0.1 -p $(SIP_TRUNK_PORT) -nostdin -m 100000000 \
	    >$(RUN)/sip-trunk.log 2>&1 </dev/null & echo $$! > $(RUN)/sip-trunk.pid
	  echo "sip trunk: started (udp 127.0.0.1:$(SIP_TRUNK_PORT); REDIAL_SIP_TRUNKS=local=sip:trunk@127.0.0.1:$(SIP_TRUNK_PORT))"
	fi
	# Alertmanager's config with this machine's on-call address and SMTP server.
	smtp=$${REDIAL_SMTP_URL:-smtp://127.0.0.1:2525}; smtp=$${smtp#smtp://}
	sed -e "s|oncall@redial.localhost|$${REDIAL_ONCALL_EMAIL:-oncall@redial.localhost}|" -e "s|127.0.0.1:2525|$$smtp|" \
	  -e "s|127.0.0.1:9102|127.0.0.1:$(WATCHDOG_PORT)|" \
	  deploy/alertmanager/alertmanager.yml > $(RUN)/alertmanager/alertmanager.yml
	if running alertmanager; then echo "alertmanager: already running (port $(ALERTMANAGER_PORT))"; else
	  setsid prometheus-alertmanager --config.file=$(RUN)/alertmanager/alertmanager.yml --storage.path=$(RUN)/alertmanager \
	    --web.listen-address=127.0.0.1:$(ALERTMANAGER_PORT) --cluster.listen-address= \
	    >$(RUN)/alertmanager.log 2>&1 </dev/null & echo $$! > $(RUN)/alertmanager.pid
	  echo "alertmanager: started (http://127.0.0.1:$(ALERTMANAGER_PORT))"
	fi
	sed -e "s|@RULES@|$(CURDIR)/deploy/prometheus/rules.yml|" -e "s|@ALERTMANAGER@|127.0.0.1:$(ALERTMANAGER_PORT)|" \
	  -e "s|@WATCHDOG@|127.0.0.1:$(WATCHDOG_PORT)|" deploy/prometheus/prometheus.yml > $(RUN)/prometheus/prometheus.yml
	if running prometheus; then echo "prometheus: already running (port $(PROMETHEUS_PORT))"; else
	  setsid prometheus --config.file=$(RUN)/prometheus/prometheus.yml --storage.tsdb.path=$(RUN)/prometheus/data \
	    --web.listen-address=127.0.0.1:$(PROMETHEUS_PORT) --rules.alert.resend-delay=15s >$(RUN)/prometheus.log 2>&1 </dev/null & echo $$! > $(RUN)/prometheus.pid
	  echo "prometheus: started (http://127.0.0.1:$(PROMETHEUS_PORT))"
	fi

# Redis under Sentinel on loopback: a master, one replica and three sentinels (quorum 2) with the
# shipped durability flags, master name `redial`; stopped by `make stop`. A server killed and
# started again here rejoins, and the sentinels make it a replica of whichever is master now.
SENTINEL_MASTER_PORT  ?= 16380
SENTINEL_REPLICA_PORT ?= 16381
SENTINEL_PORTS        ?= 26380 26381 26382
SENTINEL_URL = redis-sentinel://$(subst $(space),$(comma),$(foreach p,$(SENTINEL_PORTS),127.0.0.1:$(p)))/redial
space := $(subst ,, )
services-sentinel: deps ## start a Redis master, a replica and three sentinels under .run/sentinel/ (REDIAL_REDIS_URL=redis-sentinel://…/redial)
	@mkdir -p $(RUN)/sentinel
	running() { [ -f $$1 ] && kill -0 $$(cat $$1) 2>/dev/null; }
	for port in $(SENTINEL_MASTER_PORT) $(SENTINEL_REPLICA_PORT); do
	  pidfile=$(RUN)/sentinel/redis-$$port.pid
	  if running $$pidfile; then echo "redis: already running (pid $$(cat $$pidfile), port $$port)"; continue; fi
	  replica=(); [ $$port = $(SENTINEL_REPLICA_PORT) ] && replica=(--replicaof 127.0.0.1 $(SENTINEL_MASTER_PORT))
	  mkdir -p $(RUN)/sentinel/redis-$$port
	  redis-server $(REDIS_SHIPPED) --port $$port --pidfile $$pidfile --dir $(RUN)/sentinel/redis-$$port \
	    --logfile $(RUN)/sentinel/redis-$$port.log "$${replica[@]}"
	  for i in $$(seq 100); do redis-cli -p $$port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	  echo "redis: started (pid $$(cat $$pidfile), port $$port$${replica:+, replica of $(SENTINEL_MASTER_PORT)})"
	done
	for port in $(SENTINEL_PORTS); do
	  pidfile=$(RUN)/sentinel/sentinel-$$port.pid; conf=$(RUN)/sentinel/sentinel-$$port.conf
	  if running $$pidfile; then echo "sentinel: already running (pid $$(cat $$pidfile), port $$port)"; continue; fi
	  # A sentinel rewrites its own file (the current master, the others it met): kept across restarts.
	  [ -f $$conf ] || printf '%s\n' "port $$port" "bind 127.0.0.1" "dir $(RUN)/sentinel" \
	    "sentinel monitor redial 127.0.0.1 $(SENTINEL_MASTER_PORT) 2" "sentinel down-after-milliseconds redial 1000" \
	    "sentinel failover-timeout redial 3000" "sentinel parallel-syncs redial 1" > $$conf
	  redis-server $$conf --sentinel --daemonize yes --pidfile $$pidfile --logfile $(RUN)/sentinel/sentinel-$$port.log
	  for i in $$(seq 100); do redis-cli -p $$port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	  echo "sentinel: started (pid $$(cat $$pidfile), port $$port)"
	done
	echo "REDIAL_REDIS_URL=$(SENTINEL_URL)"

# A Redis Cluster on loopback: three masters and three replicas (`redis-cli --cluster create …
# --cluster-replicas 1`) with the shipped durability flags; a shard failing over leaves the others
# serving (`cluster-require-full-coverage no`). Kept under .run/cluster/ across restarts (each
# node's nodes.conf); a node killed and started again rejoins. Stopped by `make stop`.
CLUSTER_PORTS ?= 16401 16402 16403 16404 16405 16406
CLUSTER_URL = redis-cluster://$(subst $(space),$(comma),$(foreach p,$(wordlist 1,3,$(CLUSTER_PORTS)),127.0.0.1:$(p)))
services-cluster: deps ## start a Redis Cluster of three masters and three replicas under .run/cluster/ (REDIAL_REDIS_URL=redis-cluster://…)
	@mkdir -p $(RUN)/cluster
	running() { [ -f $$1 ] && kill -0 $$(cat $$1) 2>/dev/null; }
	for port in $(CLUSTER_PORTS); do
	  pidfile=$(RUN)/cluster/redis-$$port.pid
	  if running $$pidfile; then echo "redis: already running (pid $$(cat $$pidfile), port $$port)"; continue; fi
	  mkdir -p $(RUN)/cluster/redis-$$port
	  redis-server $(REDIS_SHIPPED) --port $$port --pidfile $$pidfile --dir $(RUN)/cluster/redis-$$port \
	    --logfile $(RUN)/cluster/redis-$$port.log --cluster-enabled yes --cluster-config-file nodes.conf \
	    --cluster-node-timeout 1000 --cluster-require-full-coverage no
	  for i in $$(seq 100); do redis-cli -p $$port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	  echo "redis: started (pid $$(cat $$pidfile), port $$port, cluster node)"
	done
	first=$(word 1,$(CLUSTER_PORTS))
	if [ "$$(redis-cli -p $$first cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" != "$(words $(CLUSTER_PORTS))" ]; then
	  redis-cli --cluster create $(foreach p,$(CLUSTER_PORTS),127.0.0.1:$(p)) --cluster-replicas 1 --cluster-yes >$(RUN)/cluster/create.log 2>&1 \
	    || { cat $(RUN)/cluster/create.log; exit 1; }
	  echo "cluster: created (3 masters, 3 replicas)"
	fi
	for i in $$(seq 300); do
	  ok=yes; for port in $(CLUSTER_PORTS); do redis-cli -p $$port cluster info | grep -q 'cluster_state:ok' || ok=no; done
	  [ $$ok = yes ] && break; sleep 0.1
	done
	[ $$ok = yes ] || { echo "cluster: not ok after 30 s" >&2; exit 1; }
	echo "REDIAL_REDIS_URL=$(CLUSTER_URL)"

services-running:
	@pgdata=$$(cat $(RUN)/pgdata 2>/dev/null || true)
	if [ -f $(RUN)/redis.pid ] && kill -0 $$(cat $(RUN)/redis.pid) 2>/dev/null \
	   && [ -n "$$pgdata" ] && [ -f $$pgdata/postmaster.pid ]; then echo yes; else echo no; fi

stop: ## stop what `make services` started (by pid file)
	@for name in prometheus alertmanager sip-trunk; do
	  if [ -f $(RUN)/$$name.pid ] && kill -0 $$(cat $(RUN)/$$name.pid) 2>/dev/null; then
	    pid=$$(cat $(RUN)/$$name.pid); kill $$pid; while kill -0 $$pid 2>/dev/null; do sleep 0.1; done
	    rm -f $(RUN)/$$name.pid; echo "$$name: stopped"
	  fi
	done
	for pidfile in $(RUN)/redis.pid $(RUN)/sentinel/sentinel-*.pid $(RUN)/sentinel/redis-*.pid $(RUN)/cluster/redis-*.pid; do
	  if [ -f $$pidfile ] && kill -0 $$(cat $$pidfile) 2>/dev/null; then
	    pid=$$(cat $$pidfile); kill $$pid
	    while kill -0 $$pid 2>/dev/null; do sleep 0.1; done
	    name=$$(basename $$pidfile .pid)
	    case $$name in redis) echo "redis: stopped";; *) echo "$${name%%-*} $${name#*-}: stopped";; esac
	  fi
	done
	if [ -f $(RUN)/pgdata ]; then
	  pgdata=$$(cat $(RUN)/pgdata); as=(); [ "$$(id -u)" = 0 ] && as=(runuser -u postgres -- env -C /)
	  if [ -f $$pgdata/postmaster.pid ]; then
	    "$${as[@]}" $(PG_BIN)/pg_ctl -D $$pgdata -m fast -w stop >/dev/null && echo "postgres: stopped"
	  fi
	fi

# Used by the chaos suite: a fast restart of the PostgreSQL that `make services` started.
pg-restart:
	@pgdata=$$(cat $(RUN)/pgdata); as=(); [ "$$(id -u)" = 0 ] && as=(runuser -u postgres -- env -C /)
	"$${as[@]}" $(PG_BIN)/pg_ctl -D $$pgdata -m fast -w -t 60 restart \
	  -o "-p $(PG_PORT) -c listen_addresses=$(PG_LISTEN) -c unix_socket_directories='' -c fsync=$${PG_FSYNC:-on}" >/dev/null

migrate: build services ## apply pending PostgreSQL migrations
	swift run redial migrate

test: build ## install what is missing, start services, run every test, stop what it started
	@running=$$($(MAKE) --no-print-directory -s services-running)
	PG_FSYNC=off $(MAKE) --no-print-directory services
	# Stop afterwards only what this run started, also when tests fail.
	[ "$$running" = yes ] || trap '$(MAKE) --no-print-directory stop' EXIT
	swift build --build-tests
	$(MAKE) --no-print-directory check-alerting
	# Tests use Redis database 1: the abuse limits count per number and per client across all
	# sites, so test traffic in database 0 would count against `make run`'s demo (all from loopback).
	REDIAL_REDIS_URL=redis://127.0.0.1:$(REDIS_PORT)/1 swift test --skip-build
	# The chaos smoke profile guards the invariants under faults (its own Redis and PostgreSQL).
	$(MAKE) --no-print-directory chaos PROFILE=smoke
	# Redis under Sentinel: the master killed three times under load, WAIT 1 (its own topology).
	$(MAKE) --no-print-directory chaos PROFILE=sentinel
	# Redis Cluster: queues' slots resharded and their masters killed under load, WAIT 1.
	$(MAKE) --no-print-directory chaos PROFILE=cluster
	$(MAKE) --no-print-directory fuzz-smoke

# Fuzzing (libFuzzer, coverage-guided) of every public parser: Sources/FuzzTargets, corpora in
# Tests/FuzzCorpus/<name>/. Built apart (.build/fuzz: our modules instrumented, dependencies not).
FUZZ_TARGETS := phone intake webhook envelope cron resp
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := .build/fuzz
FUZZ_OPTIONS := -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1

fuzz-build:
	@mkdir -p $(RUN)/fuzz/crashes
	# The build with the planted bug first (only its FuzzTargets module differs), then the real one.
	REDIAL_FUZZ=planted swift build --build-path $(FUZZ_BUILD) --product redial-fuzz
	cp $(FUZZ_BUILD)/debug/redial-fuzz $(RUN)/fuzz/redial-fuzz-planted
	REDIAL_FUZZ=1 swift build --build-path $(FUZZ_BUILD) --product redial-fuzz
	cp $(FUZZ_BUILD)/debug/redial-fuzz $(RUN)/fuzz/redial-fuzz

fuzz: fuzz-build ## fuzz every public parser FUZZ_SECONDS (60) each; new inputs in .run/fuzz/<name>, crashes in .run/fuzz/crashes
	$(MAKE) --no-print-directory fuzz-run

fuzz-run:
	@export SWIFT_BACKTRACE=enable=no  # Swift's crash handler would keep libFuzzer's from saving the input
	for name in $(FUZZ_TARGETS); do
	  mkdir -p $(RUN)/fuzz/$$name
	  echo "fuzzing $$name for $(FUZZ_SECONDS) s"
	  REDIAL_FUZZ_TARGET=$$name $(RUN)/fuzz/redial-fuzz $(RUN)/fuzz/$$name Tests/FuzzCorpus/$$name $(FUZZ_OPTIONS) \
	    -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(RUN)/fuzz/crashes/$$name- >$(RUN)/fuzz/$$name.log 2>&1 \
	    || { tail -40 $(RUN)/fuzz/$$name.log; echo "fuzz: $$name crashed; the input is in $(RUN)/fuzz/crashes/: add it to Tests/FuzzCorpus/$$name/ with the fix"; exit 1; }
	  grep -h "stat::number_of_executed_units\|stat::new_units_added" $(RUN)/fuzz/$$name.log | sed "s/^/  /"
	done

# make test's short pass: each parser over its committed corpus (every past crash stays there as
# a regression) and 10 s of new inputs; then the build with a planted bug must be caught, and the
# input it saves must reproduce the crash.
fuzz-smoke: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=10
	rm -rf $(RUN)/fuzz/planted && mkdir -p $(RUN)/fuzz/planted
	export SWIFT_BACKTRACE=enable=no REDIAL_FUZZ_TARGET=phone
	if $(RUN)/fuzz/redial-fuzz-planted $(RUN)/fuzz/planted Tests/FuzzCorpus/phone $(FUZZ_OPTIONS) -max_total_time=120 \
	     -artifact_prefix=$(RUN)/fuzz/planted/ >$(RUN)/fuzz/planted.log 2>&1; then
	  echo "fuzz-smoke: the planted bug was not found in 120 s"; exit 1
	fi
	found=$$(ls $(RUN)/fuzz/planted/crash-* 2>/dev/null | head -1)
	[ -n "$$found" ] || { tail -30 $(RUN)/fuzz/planted.log; echo "fuzz-smoke: the planted build failed without saving a crash"; exit 1; }
	if $(RUN)/fuzz/redial-fuzz-planted "$$found" >$(RUN)/fuzz/planted-replay.log 2>&1; then
	  echo "fuzz-smoke: the saved input does not reproduce the planted crash"; exit 1
	fi
	echo "fuzz-smoke: the planted bug was found ($$(basename $$found)) and its input reproduces it"

check-alerting: deps ## check the alert rules (promtool unit tests) and the Alertmanager configuration
	promtool check rules deploy/prometheus/rules.yml
	promtool test rules deploy/prometheus/rules.test.yml
	amtool check-config deploy/alertmanager/alertmanager.yml

run: build services ## build, start services, migrate, create a demo site, run the whole cluster (Ctrl-C stops it)
	@.build/debug/redial migrate
	# The demo site's key is shown only once, at creation: keep it under .run/ for the next run.
	if [ ! -s $(RUN)/demo-site.json ] || ! grep -q site_key $(RUN)/demo-site.json; then
	  .build/debug/redial sites add --name "Sunny Windows (demo)" --manager +79990000001 --manager +79990000008 \
	    --timezone Europe/Moscow --balance-minutes 600 --default-country 7 --json > $(RUN)/demo-site.json
	fi
	key=$$(sed -n 's/.*"site_key": "\([^"]*\)".*/\1/p' $(RUN)/demo-site.json)
	if ! psql -h 127.0.0.1 -p $(PG_PORT) -U $(PG_USER) -d $(PG_DB) -tAc "SELECT 1 FROM sites WHERE key_hash = encode(sha256('$$key'::bytea), 'hex')" | grep -q 1; then
	  .build/debug/redial sites add --name "Sunny Windows (demo)" --manager +79990000001 --manager +79990000008 \
	    --timezone Europe/Moscow --balance-minutes 600 --default-country 7 --json > $(RUN)/demo-site.json
	  key=$$(sed -n 's/.*"site_key": "\([^"]*\)".*/\1/p' $(RUN)/demo-site.json)
	fi
	cat <<-INFO

	  Redial is up (Ctrl-C stops it): API, outbox relay, 2 workers, the watchdog and the telephony sandbox.

	    demo page:   http://127.0.0.1:8080/demo?site_key=$$key&country=7
	    health:      http://127.0.0.1:8080/readyz      metrics: http://127.0.0.1:8080/metrics
	    sandbox log: http://127.0.0.1:8090/sandbox/calls
	    watchdog:    http://127.0.0.1:$(WATCHDOG_PORT)/metrics   alerts: http://127.0.0.1:$(PROMETHEUS_PORT)/alerts, http://127.0.0.1:$(ALERTMANAGER_PORT)
	    emails:      $(RUN)/mail/new/ (a local SMTP sink on 2525)
	    recordings:  http://127.0.0.1:9000/redial-recordings (a local S3, moto, in memory)

	  Ask for a callback (a number ending in 0 is answered; see README.md for the others):

	    curl -i -X POST http://127.0.0.1:8080/v1/callbacks -H 'X-Site-Key: $$key' \
	         -H 'Content-Type: application/json' -d '{"phone": "+7 916 123-45-60"}'

	  then GET http://127.0.0.1:8080/v1/callbacks/<id> with the same X-Site-Key header,
	  or watch the queues: .build/debug/redial stats

	INFO
	# Where emails and recordings go on this machine: an SMTP sink and an S3-compatible store,
	# stopped with the cluster.
	mkdir -p $(RUN)/mail
	python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Mailbox $(RUN)/mail >$(RUN)/smtp.log 2>&1 & smtp=$$!
	python3 -m moto.server -H 127.0.0.1 -p 9000 >$(RUN)/s3.log 2>&1 & s3=$$!
	trap 'kill -9 $$smtp $$s3 2>/dev/null || true' EXIT
	for i in $$(seq 100); do curl -s -o /dev/null http://127.0.0.1:9000/ && break; sleep 0.1; done
	curl -s -o /dev/null -X PUT http://127.0.0.1:9000/redial-recordings
	REDIAL_SIP_TRUNKS=$${REDIAL_SIP_TRUNKS:-local=sip:trunk@127.0.0.1:$(SIP_TRUNK_PORT)} .build/debug/redial up --workers 2

BENCH_PORT ?= 16394
bench: deps ## benchmarks vs Redis's own limit on a Redis of their own (QUICK=1: short); writes .run/bench/results.json
	@swift build -c release --product redial
	swift build -c release --product redial-bench
	rm -rf $(RUN)/bench/redis; mkdir -p $(RUN)/bench/redis
	redis-server $(REDIS_SHIPPED) --port $(BENCH_PORT) --pidfile $(RUN)/bench/redis.pid \
	  --dir $(RUN)/bench/redis --logfile $(RUN)/bench/redis.log --enable-debug-command local
	trap 'kill $$(cat $(RUN)/bench/redis.pid); rm -rf $(RUN)/bench/redis' EXIT
	for i in $$(seq 100); do redis-cli -p $(BENCH_PORT) ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	.build/release/redial-bench --redis-port $(BENCH_PORT) --redial .build/release/redial \
	  --output $(RUN)/bench/results.json $(if $(QUICK),--quick)
	$(MAKE) --no-print-directory bench-intake
	$(MAKE) --no-print-directory bench-replication
	$(MAKE) --no-print-directory bench-cluster

INTAKE_RUN := $(RUN)/bench-intake
INTAKE_PORTS := REDIS_PORT=16393 PG_PORT=15493
bench-intake: deps ## the callback path alone: accepted/s vs pgbench, wrk, click to ring, 10 min of memory (QUICK=1: short; SOAK=s); adds "intake" to .run/bench/results.json
	@swift build -c release --product redial
	swift build -c release --product redial-bench
	rm -rf $(INTAKE_RUN); mkdir -p $(INTAKE_RUN)
	$(MAKE) --no-print-directory services RUN=$(INTAKE_RUN) $(INTAKE_PORTS) OPS=0
	trap '$(MAKE) --no-print-directory stop RUN=$(INTAKE_RUN) $(INTAKE_PORTS)' EXIT
	.build/release/redial-bench --intake --redis-port 16393 --postgres-port 15493 --redial .build/release/redial \
	  --output $(RUN)/bench/results.json $(if $(QUICK),--quick) $(if $(SOAK),--soak-seconds $(SOAK))

REPLICATION_RUN := $(RUN)/bench-replication
bench-replication: deps ## what REDIAL_REDIS_WAIT=1 costs: enqueues on a master with one replica, with and without WAIT; adds "replication" to .run/bench/results.json
	@swift build -c release --product redial-bench
	rm -rf $(REPLICATION_RUN); mkdir -p $(REPLICATION_RUN)/master $(REPLICATION_RUN)/replica
	trap 'for f in $(REPLICATION_RUN)/*.pid; do kill $$(cat $$f) 2>/dev/null || true; done' EXIT
	redis-server $(REDIS_SHIPPED) --port 16397 --pidfile $(REPLICATION_RUN)/master.pid --dir $(REPLICATION_RUN)/master \
	  --logfile $(REPLICATION_RUN)/master.log
	redis-server $(REDIS_SHIPPED) --port 16398 --pidfile $(REPLICATION_RUN)/replica.pid --dir $(REPLICATION_RUN)/replica \
	  --logfile $(REPLICATION_RUN)/replica.log --replicaof 127.0.0.1 16397
	for i in $$(seq 100); do redis-cli -p 16398 info replication 2>/dev/null | grep -q master_link_status:up && break; sleep 0.1; done
	.build/release/redial-bench --replication --redis-port 16397 --output $(RUN)/bench/results.json $(if $(QUICK),--quick)

CLUSTER_BENCH_RUN := $(RUN)/bench-cluster
CLUSTER_BENCH_PORTS := 16421 16422 16423 16424 16425 16426
bench-cluster: deps ## the drain on a Redis Cluster of three masters against one Redis; adds "cluster" to .run/bench/results.json
	@swift build -c release --product redial
	swift build -c release --product redial-bench
	rm -rf $(CLUSTER_BENCH_RUN); mkdir -p $(CLUSTER_BENCH_RUN)/single
	trap '$(MAKE) --no-print-directory stop RUN=$(CLUSTER_BENCH_RUN) >/dev/null; kill $$(cat $(CLUSTER_BENCH_RUN)/single.pid) 2>/dev/null || true' EXIT
	redis-server $(REDIS_SHIPPED) --port 16420 --pidfile $(CLUSTER_BENCH_RUN)/single.pid --dir $(CLUSTER_BENCH_RUN)/single \
	  --logfile $(CLUSTER_BENCH_RUN)/single.log
	for i in $$(seq 100); do redis-cli -p 16420 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	$(MAKE) --no-print-directory services-cluster RUN=$(CLUSTER_BENCH_RUN) CLUSTER_PORTS="$(CLUSTER_BENCH_PORTS)" >/dev/null
	.build/release/redial-bench --redis-port 16420 --cluster $(subst $(space),$(comma),$(CLUSTER_BENCH_PORTS)) --redial .build/release/redial \
	  --output $(RUN)/bench/results.json $(if $(QUICK),--quick)

PROFILE ?= smoke
CHAOS_REPORTS ?= $(RUN)/chaos-reports
CHAOS_RUN := $(RUN)/chaos
CHAOS_PORTS := REDIS_PORT=16392 PG_PORT=15492
# The Sentinel profiles' topology: master, replica, three sentinels.
CHAOS_SENTINEL_PORTS := 16395 16396 26390 26391 26392
CHAOS_SENTINEL := SENTINEL_MASTER_PORT=16395 SENTINEL_REPLICA_PORT=16396 SENTINEL_PORTS="26390 26391 26392"
# The cluster profile's topology: three masters, three replicas.
CHAOS_CLUSTER_PORTS := 16411 16412 16413 16414 16415 16416
# The full and network profiles add network faults when they can (root, ip netns): one worker in a namespace of
# its own, reaching the services over a veth pair (Chaos/network.sh).
export CHAOS_NS := redial-chaos
export CHAOS_HOST_IP := 10.231.0.1
export CHAOS_NS_IP := 10.231.0.2
export CHAOS_PG_PORT := 15492
chaos: build ## faults against a real cluster of its own, invariants checked (PROFILE=smoke|full|release|network|sentinel|sentinel-async|cluster; BREAK=1: broken build)
	@swift build --product redial-chaos
	mkdir -p $(CHAOS_RUN)
	net=()
	if { [ "$(PROFILE)" = full ] || [ "$(PROFILE)" = network ]; } && Chaos/network.sh up >$(CHAOS_RUN)/network.log 2>&1; then
	  net=(LISTEN_EXTRA=$(CHAOS_HOST_IP) TRUST_NET=$(CHAOS_NS_IP)/32)
	fi
	$(MAKE) --no-print-directory services RUN=$(CHAOS_RUN) $(CHAOS_PORTS) OPS=0 "$${net[@]}"
	trap '$(MAKE) --no-print-directory stop RUN=$(CHAOS_RUN) $(CHAOS_PORTS); Chaos/network.sh down' EXIT
	topology=()
	if [[ "$(PROFILE)" == sentinel* ]]; then
	  rm -rf $(CHAOS_RUN)/sentinel  # a fresh topology: the sentinels' rewritten files name the last run's master
	  $(MAKE) --no-print-directory services-sentinel RUN=$(CHAOS_RUN) $(CHAOS_SENTINEL) >/dev/null
	  topology=(--sentinel-ports $(subst $(space),$(comma),$(CHAOS_SENTINEL_PORTS)))
	fi
	if [ "$(PROFILE)" = cluster ]; then
	  rm -rf $(CHAOS_RUN)/cluster  # a fresh cluster: the last run's moved the slots about
	  $(MAKE) --no-print-directory services-cluster RUN=$(CHAOS_RUN) CLUSTER_PORTS="$(CHAOS_CLUSTER_PORTS)" >/dev/null
	  topology=(--cluster-ports $(subst $(space),$(comma),$(CHAOS_CLUSTER_PORTS)))
	fi
	.build/debug/redial-chaos --profile $(PROFILE) --run-directory $(CHAOS_RUN) --redis-port 16392 --postgres-port 15492 \
	  --reports $(CHAOS_REPORTS) $(if $(BREAK),--break-ledger) "$${topology[@]}" \
	  $$( [ $${#net[@]} -gt 0 ] && echo --network-namespace $(CHAOS_NS) --network-address $(CHAOS_HOST_IP) )
