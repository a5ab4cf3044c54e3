//go:build !(cgo && ((linux && amd64) || darwin) && !noxla)

package trainer

func disableXLAAutoInstall() {}
