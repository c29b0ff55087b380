"""HTTP plumbing shared by every router: dependencies, middleware and the problem+json renderer."""
