/** The dashboard's icon, served as `/assets/icon.svg` (so the browser asks for no favicon). */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#12263a"/>
<path d="M7 27V12l9-6 9 6v15h-6v-8h-6v8z" fill="#f59e0b"/>
</svg>
`;
