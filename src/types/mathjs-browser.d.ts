// mathjs's single-file bundle, which loads in a tenth of the time of its module tree; its API and
// types are those of the package itself.
declare module 'mathjs/lib/browser/math.js' {
  const math: typeof import('mathjs');
  export default math;
}
