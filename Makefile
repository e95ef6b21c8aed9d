# Everyday commands. `make help` lists them.
.PHONY: help demo test bench record fmt lint
help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
demo: ## render a bundled real recording
	cargo run --release -p ssm-audit -- render indexer/tests/recordings/bash5-ubuntu-80x24/session.log
test: ## every test, installing what the tests need
	./scripts/test.sh
bench: ## renderer throughput against the baselines (criterion)
	cargo bench -p ssm-audit-indexer --bench render
record: ## re-record the shell corpus (tmux, script; a few minutes)
	python3 scripts/record_corpus.py
fmt: ## format the code
	cargo fmt --all
lint: ## clippy with warnings denied
	cargo clippy --workspace --all-targets -- -D warnings
