"""Detectors behind the `Detector` port: hints for the examiner, never verdicts."""
