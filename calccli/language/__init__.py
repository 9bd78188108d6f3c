"""Text in: the Lark parser (text → nodes with spans for carets) and points/bindings."""
