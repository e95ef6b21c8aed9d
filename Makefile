# Everyday commands. `make help` lists them.
.PHONY: help demo render test aws bench bench-index memory hostile lambdas fuzz record fmt lint
help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
demo: ## ingest the bundled demo evidence into a new folder and query it
	cargo run --release -p ssm-audit -- quickstart
render: ## render a bundled real recording
	cargo run --release -p ssm-audit -- render indexer/tests/recordings/bash5-ubuntu-80x24/session.log
test: ## every test, installing what the tests need
	./scripts/test.sh
aws: ## the AWS tests alone: moto, cargo lambda watch, the template (tools from scripts/tools.sh)
	PATH="$$(./scripts/tools.sh):$$PATH" SSM_AUDIT_TOOLS_PYTHON="$$PWD/.venv/aws/bin/python" \
	  sh -c 'cargo build --workspace && cargo test --workspace --test aws --test handlers --test reconcile -- --nocapture'
bench: ## renderer throughput against the baselines (criterion)
	cargo bench -p ssm-audit-core --bench render
bench-index: ## index benchmark: 10,000 generated sessions beside ripgrep (100000 for the full run)
	cargo run --release -p ssm-audit-core --example index_bench -- 10000 /tmp/ssm-audit-bench
memory: ## peak RSS of render on 256 MiB, 1 GiB and 4 GiB transcripts, and of ingesting 1 GiB
	./scripts/measure_memory.sh
hostile: ## peak RSS and CPU of render and ingest on 16 MiB hostile inputs, beside a plain transcript
	./scripts/measure_hostile.sh
lambdas: ## bootstrap zip sizes, and init time and peak memory of each function
	./scripts/measure_lambdas.sh
fuzz: ## FUZZ_SECONDS (default 120) of each fuzz target: whole files through ingest, the renderer, the decoders (nightly, cargo-fuzz)
	./scripts/fuzz.sh
record: ## re-record the shell corpus (tmux, script; a few minutes)
	python3 scripts/record_corpus.py
fmt: ## format the code
	cargo fmt --all
lint: ## clippy with warnings denied
	cargo clippy --workspace --all-targets -- -D warnings
