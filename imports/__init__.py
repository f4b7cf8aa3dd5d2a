"""Figures departments send as files (spreadsheets), checked whole before anything is written."""
