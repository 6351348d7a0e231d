"""The web platform (Litestar): candidate pages now; examiner, operator and API pages next."""
