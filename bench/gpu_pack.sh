#!/usr/bin/env bash
# Pack what bench/bench_gpu.py needs on the GPU machine (Python 3.12, no package index there)
# into .whl/site.tar.xz: the wheels of this project's stack at the versions installed here,
# unpacked, with spaCy's tests left out and debug symbols stripped from the extensions so the
# archive fits the device's 64 MiB transfer. Run from the repository root; .whl/ is git-ignored
# through .git/info/exclude.
set -euo pipefail
PKGS="spacy thinc blis cymem preshed murmurhash srsly wasabi catalogue confection weasel spacy-legacy
spacy-loggers pydantic pydantic_core smart_open cloudpathlib spacy-transformers spacy-alignments
transformers tokenizers huggingface_hub annotated_types typing_inspection"
pins=$(for p in $PKGS; do echo "$p==$(python -c "import importlib.metadata as m; print(m.version('$p'))")"; done)
platforms=""
for p in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1 manylinux_2_5; do
  platforms="$platforms --platform ${p}_x86_64"
done
rm -rf .whl/wheels .whl/site && mkdir -p .whl/wheels .whl/site
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  $platforms -d .whl/wheels $pins
for w in .whl/wheels/*.whl; do unzip -q -o "$w" -d .whl/site; done
rm -rf .whl/site/spacy/tests
find .whl/site -name "*.so" -exec strip --strip-unneeded {} +
tar -C .whl -cJf .whl/site.tar.xz site
rm -rf .whl/wheels .whl/site
ls -l .whl/site.tar.xz
