"""The Streamlit dashboard for evaluators: rankings, gaps, evidence, import, scheme."""
