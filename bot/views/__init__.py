"""Views: text and Block Kit pieces shared by handlers and jobs (jobs never import handlers)."""
