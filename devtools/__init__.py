"""Development tools: the local Slack simulator, the console, the serve harness; not the product."""
