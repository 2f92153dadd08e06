// Lint is part of the tests: type-aware rules catch floating promises, which matter in streaming code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'models/', 'fixtures/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'onnxruntime-node', message: 'Only src/runtime/ort.ts may import onnxruntime-node.' }] },
      ],
    },
  },
  { files: ['src/runtime/ort.ts'], rules: { 'no-restricted-imports': 'off' } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/onnx/io/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'onnxruntime-node', message: 'Only src/runtime/ort.ts may import onnxruntime-node.' }],
          patterns: [
            { group: ['onnx-buf', '@bufbuild/protobuf'], message: 'Only src/onnx/io touches protobuf types.' },
          ],
        },
      ],
    },
  },
  { files: ['src/runtime/ort.ts'], rules: { 'no-restricted-imports': 'off' } },
);
