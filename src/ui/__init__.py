"""The edges people use: the command line now, the Litestar web app next."""
