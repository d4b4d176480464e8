// A module delivered by a layer. In a layer it lives in
// nodejs/node_modules/alb-layer/ (on NODE_PATH); the tests put it there
// when they assemble the layer, as node_modules directories are not kept
// in this repository.
exports.greeting = 'hello from the layer';
