"""Streamlit-side helpers shared by the pages: view state, cached loaders, frame, widgets, labels."""
