# A module delivered by a layer (python/ is on sys.path).
GREETING = "hello from the layer"
