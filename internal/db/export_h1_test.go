package db

// For the external tests (package db_test).
var ScanOnboarding = scanOnboarding

const OnboardingColumns = onboardingColumns
