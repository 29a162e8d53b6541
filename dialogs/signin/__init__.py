"""Sign-in in one room: where the Graph token comes from (`tokens`), the Teams SSO prompt with the SDK's defects
fixed (`prompt`), and sign-in/sign-out as the user meets them (`flow`)."""
