"""`PartsPipe`: a trainable spaCy component saved as named parts (cfg, model and any a subclass adds), each part
written atomically, a missing required part or damaged data refused with an error that names it."""

from typing import Callable, Dict, Tuple

import srsly
from spacy.pipeline import TrainablePipe
from spacy.util import ensure_path, to_bytes

from ..util import open_output

# Parts a saved component must have (besides the vocab, which spaCy saves with the pipeline).
REQUIRED_PARTS = ("cfg", "model")
# A serialized part of the component: (to bytes, from bytes); what the reader returns is ignored.
Part = Tuple[Callable[[], bytes], Callable[[bytes], object]]


class PartsPipe(TrainablePipe):
    """to_bytes/from_bytes/to_disk/from_disk over `_parts`; `_loaded` runs after each load."""

    def _parts(self) -> Dict[str, Part]:
        """Serialized parts besides the vocab: name -> (to bytes, from bytes). Subclasses may add optional ones."""
        return {
            "cfg": (
                lambda: srsly.json_dumps(self.cfg, indent=2).encode("utf8"),
                lambda b: self.cfg.update(srsly.json_loads(b)),
            ),
            "model": (self.model.to_bytes, self.model.from_bytes),
        }

    def _loaded(self) -> None:
        """What the component does once its parts are read (from bytes or disk); nothing here."""

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        self._validate_serialization_attrs()
        serialize = {name: write for name, (write, _) in self._parts().items()}
        serialize["vocab"] = lambda: self.vocab.to_bytes(exclude=exclude)
        return to_bytes(serialize, exclude)

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        """Load from bytes; raises naming the missing or damaged part."""
        self._validate_serialization_attrs()
        try:
            msg = srsly.msgpack_loads(bytes_data)
        except Exception as error:
            raise ValueError(f"Cannot load component '{self.name}' from bytes: they are damaged ({error}).") from error
        if "vocab" in msg and "vocab" not in exclude:
            self.vocab.from_bytes(msg["vocab"], exclude=exclude)
        for name, (_, read) in self._parts().items():
            if name in exclude:
                continue
            if name not in msg:
                if name in REQUIRED_PARTS:
                    raise ValueError(f"Cannot load component '{self.name}' from bytes: they hold no {name!r}.")
                continue
            self._read_part(read, msg[name], f"its {name!r} bytes")
        self._loaded()
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        """Save cfg, model and any further part, each under a temporary name renamed when complete."""
        self._validate_serialization_attrs()
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, (write, _) in self._parts().items():
            if name not in exclude:
                with open_output(path / name, "wb") as file:
                    file.write(write())
        if "vocab" not in exclude:
            self.vocab.to_disk(path / "vocab", exclude=exclude)

    def from_disk(self, path, *, exclude=tuple()):
        """Load from a component directory; a missing cfg or model, or a damaged file, fails here, naming it."""
        self._validate_serialization_attrs()
        path = ensure_path(path)
        if "vocab" not in exclude and (path / "vocab").exists():
            self.vocab.from_disk(path / "vocab", exclude=exclude)
        for name, (_, read) in self._parts().items():
            file = path / name
            if name in exclude:
                continue
            if not file.is_file():
                if name in REQUIRED_PARTS:
                    raise ValueError(
                        f"Cannot load component '{self.name}': {file} is missing. A saved {type(self).__name__} "
                        f"directory holds {' and '.join(REQUIRED_PARTS)}: copy the whole pipeline directory."
                    )
                continue
            self._read_part(read, file.read_bytes(), str(file))
        self._loaded()
        return self

    def _read_part(self, read: Callable[[bytes], object], data: bytes, where: str) -> None:
        """Apply one part's reader, naming where the data came from if it fails."""
        try:
            read(data)
        except Exception as error:
            raise ValueError(
                f"Cannot load component '{self.name}' from {where}: the data is damaged, truncated or not "
                f"made by this component ({type(error).__name__}: {error})."
            ) from error
