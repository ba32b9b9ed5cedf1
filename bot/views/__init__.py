"""Views: Block Kit layouts that both listeners and jobs use (no Slack calls here)."""
