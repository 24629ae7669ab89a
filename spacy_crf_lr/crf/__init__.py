"""The CRF library: batched chain algorithms, the thinc layer and tag schemes (thinc and numpy only)."""
