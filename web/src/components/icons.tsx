// The few icons the UI uses, as inline SVG paths (Material Design icons, Apache-2.0), rather than
// the whole @mui/icons-material package.
import SvgIcon, { type SvgIconProps } from '@mui/material/SvgIcon';

const icon = (d: string) => (props: SvgIconProps) => <SvgIcon {...props}><path d={d} /></SvgIcon>;

export const MenuIcon = icon('M3 18h18v-2H3v2zm0-5h18v-2H3v2zm0-7v2h18V6H3z');
export const DownloadIcon = icon('M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z');
export const CancelIcon = icon('M12 2C6.47 2 2 6.47 2 12s4.47 10 10 10 10-4.47 10-10S17.53 2 12 2zm5 13.59L15.59 17 12 13.41 8.41 17 7 15.59 10.59 12 7 8.41 8.41 7 12 10.59 15.59 7 17 8.41 13.41 12 17 15.59z');
