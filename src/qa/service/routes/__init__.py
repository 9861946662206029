"""The HTTP routes, one router per group; `qa.service.app.create_app` includes them all."""
