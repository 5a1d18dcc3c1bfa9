/// <reference types="vite/client" />
// Vite's ambient types: CSS side-effect imports, `import.meta.env`, asset URLs.
