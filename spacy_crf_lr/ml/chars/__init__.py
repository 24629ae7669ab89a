"""Character features for Chinese word segmentation: the key-producing layers (layers), the registered
CharEmbed architectures (architectures), what the training data and the user dictionary tell the layers
(fitting), and their parts: character keys (keys), the training lexicon (lexicon), one-table embeddings
(key_embed)."""
