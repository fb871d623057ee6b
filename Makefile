# The two set-up commands of the README, and a few conveniences.
#   make demo   install what is missing, build (release), run the pipeline on the bundled samples
#   make test   install what is missing, build, run the whole test suite
.PHONY: all deps build demo test docs install clean

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release

demo: build
	./examples/demo.sh build/release

test: deps
	./scripts/test.sh

docs: build
	./scripts/gen-docs.sh build/release

install: build
	cmake --install build/release

clean:
	rm -rf build
