/* This npm package was not installed when visor was built: run scripts/setup, then rebuild. */
window.visorMissingPackage = true;
