// express4 is npm:express@4 (to run the suite on Express 4 too); its API matches these types for
// what the tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
