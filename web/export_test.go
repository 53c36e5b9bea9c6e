package web

// SetDirectoryScanMax lowers the directory's scan limit for a test, so that a few suppliers
// reach it; the returned function restores it.
func SetDirectoryScanMax(n int) (restore func()) {
	old := directoryScanMax
	directoryScanMax = n
	return func() { directoryScanMax = old }
}
