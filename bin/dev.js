#!/usr/bin/env node
// Development entry: same as run.js, with oclif's development mode (uses ts sources when ts-node is present).
require('@oclif/core').execute({ development: true, dir: __dirname });
