import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents from the BFF's committed SDL. `tsc --noEmit` then rejects any field or
// argument the schema does not have. The generated files are committed; `.ci/web.sh`
// regenerates them and fails on a diff (drift from bff/schema.graphql).
const config: CodegenConfig = {
  schema: '../bff/schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        skipTypename: true,
        dedupeFragments: true,
      },
    },
  },
};

export default config;
