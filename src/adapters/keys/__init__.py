"""Key store adapters: memory (tests), files (embedded defaults), PostgreSQL."""
