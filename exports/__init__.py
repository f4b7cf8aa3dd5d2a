"""Briefing exports: charts, static maps, data tables and briefing packs (PDF/PPTX), with provenance."""
