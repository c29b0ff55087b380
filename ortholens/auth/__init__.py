"""Identity and access: the permission policy, tokens, sign-in sessions and request principals."""
