"""The patient portal's sign-in (seed 004 section 1): invitation check, registration, login,
refresh and logout under `/api/patient-auth`."""
